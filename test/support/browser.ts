/**
 * What the browser tests (test/browser/) share: Debian's Chromium driven by playwright-core, and
 * the demo app's web server in front of both stacks of a local runtime and its identity
 * provider, on free ports; signing in as a dev user the way a person does (one click on the
 * sign-in screen). The calls are cross-origin, so CORS is real.
 */
import { seedDemoStock } from '../../local/tools/demo-stock';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type LocalRuntime, startLocalRuntime } from '../../local/emulators/runtime';
import { originsOf, type RunningWebServer, startWebServer } from '../../local/emulators/web-server';
import { testEndpoint } from './dynamo';
import { TEST_POLLER } from './runtime';

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
      identity: () => runtime?.identity,
    });
    runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix,
      quiet: true,
      handlerLogLevel: 'SILENT',
      corsOrigins: originsOf(web.url),
      poller: { pollIntervalMs: 50, idlePollIntervalMs: TEST_POLLER.idlePollIntervalMs },
    });
    // As `npm start` does: the demo's SKUs in stock, so a submitted order is confirmed.
    await seedDemoStock(runtime);
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

/** The dev users (local/emulators/identity-provider.ts): two customers, support, an admin. */
export type DevUserName = 'alice' | 'bob' | 'support' | 'admin';

/**
 * Opens the demo app (`query`: e.g. `?stack=coupled#lists`) and signs in as `user` from its
 * sign-in screen, waiting until the app shows them signed in. A page already signed in (the
 * session is kept across reloads) is left as it is when it is `user`'s.
 */
export const signIn = async (page: Page, baseUrl: string, user: DevUserName, query = '') => {
  await page.goto(`${baseUrl}/${query}`);
  await page.locator('[data-testid="sign-in"], [data-testid="signed-in-user"]').first().waitFor();
  if ((await page.getByTestId('signed-in-user').count()) === 0) {
    await page.getByTestId(`sign-in-${user}`).click();
  }
  await page.getByTestId('signed-in-user').filter({ hasText: user }).waitFor();
};

/** An API request as `user` (a test reading what the server stored): their ID token attached. */
export const authorizedFetch = (setup: DemoSetup, user: DevUserName, url: string) =>
  fetch(url, { headers: { authorization: `Bearer ${setup.runtime.identity.tokenFor(user)}` } });

/**
 * Waits until the demo app's service worker controls `page` (before a test relies on it for an
 * offline reload). A page whose document was created while the worker was still activating may
 * be left out of its `clients.claim()` (the sign-in's redirect makes that window real on a loaded
 * machine); such a page is controlled from its next load on, so it is reloaded once, as a person
 * would, once the registration is active.
 */
export const waitForServiceWorker = async (page: Page) => {
  const active = await page.evaluate(`Promise.race([
    navigator.serviceWorker.ready.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 30000)),
  ])`);
  if (!active) {
    const registration = await page.evaluate(`navigator.serviceWorker.getRegistration().then((r) =>
      JSON.stringify(r && { installing: r.installing?.state, waiting: r.waiting?.state }))`);
    throw new Error(
      `The service worker did not become active in 30 s; registration: ${registration}`,
    );
  }
  const controlled = 'navigator.serviceWorker.controller !== null';
  // `ready` resolves as the worker starts activating: its claim() may still be under way.
  const claimed = await page.waitForFunction(controlled, undefined, { timeout: 5000 }).then(
    () => true,
    () => false,
  );
  if (claimed) return;
  await page.reload();
  await page.waitForFunction(controlled);
};
