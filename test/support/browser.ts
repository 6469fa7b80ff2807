/**
 * What the browser tests (test/browser/) share: Debian's Chromium driven by playwright-core, and
 * the demo app's web server in front of both stacks of a local runtime, on free ports. The calls
 * are cross-origin, so CORS is real.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { type LocalRuntime, startLocalRuntime } from '../../local/emulators/runtime';
import { originsOf, type RunningWebServer, startWebServer } from '../../local/emulators/web-server';
import { testEndpoint } from './dynamo';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * Flags that work on these machines (see docs/decisions/browser-test-chromium.md): no sandbox
 * as root, no network noise.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface DemoSetup {
  readonly runtime: LocalRuntime;
  readonly web: RunningWebServer;
  readonly browser: Browser;
}

/**
 * Starts the web server, both stacks (stream polled every 50 ms) and Chromium before the file's
 * tests, and stops them after: call at the top level of a test file. Fails the file at once,
 * with how to install it, when there is no Chromium.
 */
export const useDemoApp = (tablePrefix: string): { current: DemoSetup } => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; ` +
        'scripts/test.sh does it when run as root) or set CHROMIUM_PATH.',
    );
  }
  const setup = { current: undefined as unknown as DemoSetup };
  let runtime: LocalRuntime | undefined;
  let web: RunningWebServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    web = await startWebServer({
      port: 0,
      apis: () => ({ decoupled: runtime?.decoupledUrl, coupled: runtime?.coupledUrl }),
      websockets: () => runtime?.websocketUrls ?? {},
    });
    runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix,
      quiet: true,
      handlerLogLevel: 'SILENT',
      corsOrigins: originsOf(web.url),
      poller: { pollIntervalMs: 50 },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    setup.current = { runtime, web, browser };
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await runtime?.stop();
  });
  return setup;
};
