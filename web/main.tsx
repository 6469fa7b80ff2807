/**
 * The demo app's entry: reads which APIs are running (`/config.json`), builds one Redux store
 * per stack (its own outbox, so a switch never sends a command to the other stack), and
 * renders the app. Offline, the service worker serves the shell and the client's IndexedDB
 * outbox keeps the commands; the last confirmed views are kept in localStorage.
 */
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { App } from './app';
import { createDemoStore, type StackName } from './store';

interface WebConfig {
  readonly apis: Partial<Record<StackName, string>>;
  /** Live updates: each stack's WebSocket URL (absent: no live updates). */
  readonly websockets?: Partial<Record<StackName, string>>;
}

const CONFIG_KEY = 'demo:config';

/** The config from the server, or the last one seen (a reload while offline). */
const loadConfig = async (): Promise<WebConfig> => {
  try {
    const response = await fetch('/config.json', { cache: 'no-cache' });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    const config = (await response.json()) as WebConfig;
    localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
    return config;
  } catch (error) {
    const saved = localStorage.getItem(CONFIG_KEY);
    if (saved) return JSON.parse(saved) as WebConfig;
    throw error;
  }
};

const boot = async () => {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => {
      console.warn('The service worker did not register (no offline reload):', error);
    });
  }
  const root = createRoot(document.getElementById('root')!);
  let config: WebConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    root.render(<p className="fatal">The app could not load its configuration: {String(error)}</p>);
    return;
  }
  const stacks = (['decoupled', 'coupled'] as const).filter((s) => config.apis[s]);
  const params = new URLSearchParams(location.search);
  const asked = params.get('stack');
  const stack = stacks.find((s) => s === asked) ?? stacks[0];
  if (!stack) {
    root.render(<p className="fatal">No stack is running.</p>);
    return;
  }
  const demo = createDemoStore(stack, config.apis[stack]!, config.websockets?.[stack]);
  await demo.client.start();
  root.render(
    <Provider store={demo.store}>
      <App demo={demo} stacks={stacks} />
    </Provider>,
  );
};

void boot();
