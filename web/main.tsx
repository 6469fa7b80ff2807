/**
 * The demo app's entry: reads which APIs are running and where the identity provider is
 * (`/config.json`), completes a sign-in when the page is the hosted sign-in's return
 * (`?code=&state=`), shows the sign-in screen until a user is signed in, then builds that user's
 * Redux store for the chosen stack (their own outbox: a switch of stack or user never sends a
 * command elsewhere) and renders the app. Offline, the service worker serves the shell, the
 * saved session keeps the user signed in, and the client's IndexedDB outbox keeps their
 * commands; their last confirmed views are kept in localStorage.
 */
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { App } from './app';
import {
  completeHostedSignIn,
  forgetUser,
  type HostedSignIn,
  savedSession,
  type Session,
  startHostedSignIn,
  tokenProviderOf,
} from './session';
import { SignIn } from './sign-in';
import { createDemoStore, type DemoStore, type StackName } from './store';

interface WebConfig {
  readonly apis: Partial<Record<StackName, string>>;
  /** Live updates: each stack's WebSocket URL (absent: no live updates). */
  readonly websockets?: Partial<Record<StackName, string>>;
  /**
   * The identity provider the demo signs in with: the Cognito hosted UI deployed (`signInUrl`,
   * `clientId`; `issuer` is what the tokens say), the dev IdP locally (`url` as well: its users
   * are listed for one-click sign-in).
   */
  readonly identity?: {
    readonly url?: string;
    readonly issuer?: string;
    readonly clientId?: string;
    readonly signInUrl?: string;
  };
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

interface Setup {
  readonly config: WebConfig;
  readonly hosted: HostedSignIn;
  readonly stack: StackName;
  readonly stacks: readonly StackName[];
}

/** The signed-in user's store, started (their outbox read) before the app shows. */
const SignedIn = ({
  setup,
  session,
  onSignedOut,
}: {
  setup: Setup;
  session: Session;
  onSignedOut: () => void;
}) => {
  const [demo, setDemo] = useState<DemoStore | undefined>();
  useEffect(() => {
    const { config, hosted, stack } = setup;
    const created = createDemoStore({
      stack,
      baseUrl: config.apis[stack]!,
      ...(config.websockets?.[stack] && { websocketUrl: config.websockets[stack] }),
      user: session.user,
      token: tokenProviderOf(hosted, session),
    });
    let current = true;
    void created.client.start().then(() => current && setDemo(created));
    return () => {
      current = false;
      created.live?.stop();
      void created.client.stop();
    };
  }, [setup, session]);
  if (!demo) return <p className="hint loading">Opening {session.user}&apos;s outbox…</p>;

  const signOut = async () => {
    demo.live?.stop();
    // The client removes the user's outbox entries and state; the page, everything else of theirs.
    await demo.client.signOut();
    await demo.client.stop();
    await forgetUser(demo.user, setup.stacks);
    onSignedOut();
  };
  return (
    <Provider store={demo.store}>
      <App
        demo={demo}
        stacks={setup.stacks}
        onSignOut={signOut}
        onSignInAgain={() => void startHostedSignIn(setup.hosted, session.user)}
      />
    </Provider>
  );
};

const Root = ({
  setup,
  signedIn,
  failure,
}: {
  setup: Setup;
  /** Who the hosted sign-in just signed in, if this page load is its return. */
  signedIn?: Session;
  failure?: string;
}) => {
  const [session, setSession] = useState(() => signedIn ?? savedSession());
  return session ? (
    <SignedIn
      key={session.user}
      setup={setup}
      session={session}
      onSignedOut={() => setSession(undefined)}
    />
  ) : (
    <SignIn
      hosted={setup.hosted}
      {...(setup.config.identity?.url && { devIdpUrl: setup.config.identity.url })}
      {...(failure !== undefined && { failure })}
    />
  );
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
  const { signInUrl, clientId } = config.identity ?? {};
  if (!signInUrl || !clientId) {
    root.render(
      <p className="fatal">
        No identity provider is configured (config.json&apos;s identity.signInUrl and
        identity.clientId): every API call needs a signed-in user.
      </p>,
    );
    return;
  }
  const hosted = { signInUrl, clientId };
  let signedIn: Session | undefined;
  let failure: string | undefined;
  // First: the sign-in's return puts the page's own URL (its ?stack=) back.
  try {
    signedIn = await completeHostedSignIn(hosted);
  } catch (error) {
    failure = String((error as Error).message ?? error);
  }
  const stacks = (['decoupled', 'coupled'] as const).filter((s) => config.apis[s]);
  const asked = new URLSearchParams(location.search).get('stack');
  const stack = stacks.find((s) => s === asked) ?? stacks[0];
  if (!stack) {
    root.render(<p className="fatal">No stack is running.</p>);
    return;
  }
  root.render(
    <Root
      setup={{ config, hosted, stack, stacks }}
      {...(signedIn && { signedIn })}
      {...(failure !== undefined && { failure })}
    />,
  );
};

void boot();
