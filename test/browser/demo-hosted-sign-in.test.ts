/**
 * The demo app signs in as it does against a deployed stack: "Sign in" leaves for the hosted
 * sign-in page (here the dev identity provider's stand-in for Cognito's hosted UI), the user
 * picks who they are there, and the page comes back with a one-time code it trades, with its
 * PKCE verifier, for an ID and a refresh token. In real headless Chromium against the local
 * runtime: the code leaves the address bar, the page keeps its `?stack=`, the user sees their
 * own orders (not another user's), an expired ID token is renewed with the refresh token, and
 * signing out forgets both tokens.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { signIn, useDemoApp } from '../support/browser';

const demo = useDemoApp(`hosted${process.pid}`);

const SESSION_KEY = 'demo:session';

interface SavedSession {
  readonly user: string;
  readonly idToken: string;
  readonly refreshToken?: string;
}

const savedSession = (page: Page) =>
  page.evaluate(
    `JSON.parse(localStorage.getItem('${SESSION_KEY}') ?? 'null')`,
  ) as Promise<SavedSession | null>;

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    sub: string;
    exp: number;
  };

const listedOrders = (page: Page) =>
  page
    .locator('[data-testid="order-item"] .pick-id')
    .allTextContents()
    .then((ids) => ids.map((id) => id.trim()));

test('given the hosted sign-in, when alice picks herself on the identity provider’s page, then she is back signed in on the same stack, sees her own orders only, her ID token is renewed with the refresh token, and signing out forgets both', async () => {
  const { web, runtime, browser } = demo.current;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  const open = async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(String(error)));
    return page;
  };
  try {
    const alice = await open();
    await alice.goto(`${web.url}/?stack=coupled`);
    await alice.getByTestId('sign-in-hosted').click();

    // The identity provider's own page, on its own origin, lists who may sign in.
    await alice.getByTestId('hosted-sign-in').waitFor();
    expect(new URL(alice.url()).origin).toBe(runtime.identity.url);
    expect(new URL(alice.url()).pathname).toBe('/oauth2/authorize');
    expect(new URL(alice.url()).searchParams.get('code_challenge_method')).toBe('S256');
    await alice.getByTestId('hosted-sign-in-alice').click();

    // Back on the demo, signed in; the code and state are gone from the URL, the stack kept.
    await alice.getByTestId('signed-in-user').filter({ hasText: 'alice' }).waitFor();
    const back = new URL(alice.url());
    expect(back.origin).toBe(web.url);
    expect(back.searchParams.get('code')).toBeNull();
    expect(back.searchParams.get('state')).toBeNull();
    expect(back.searchParams.get('stack')).toBe('coupled');
    const session = (await savedSession(alice))!;
    expect(session.user).toBe('alice');
    expect(claimsOf(session.idToken).sub).toBe('alice');
    expect(typeof session.refreshToken).toBe('string');

    // Her order is hers: listed for her after a reload, not for bob.
    await alice.getByTestId('create-order').click();
    await alice.waitForFunction(
      `document.querySelectorAll('[data-testid="command"][data-type="order/create"][data-state="confirmed"]').length === 1`,
    );
    const order = (await alice.locator('[data-testid="order"] h2').textContent())!;
    await alice.reload();
    await alice.locator('[data-testid="order-item"] .pick-id', { hasText: order }).waitFor();
    const bob = await open();
    await signIn(bob, web.url, 'bob', '?stack=coupled');
    expect(await bob.getByTestId('orders-title').textContent()).toBe('My orders');
    expect(await listedOrders(bob)).not.toContain(order);

    // An expired ID token: the page renews it with the refresh token before calling the API.
    const expired = runtime.identity.tokenFor('alice', { ttlSeconds: -60 });
    await alice.evaluate(
      `localStorage.setItem('${SESSION_KEY}', JSON.stringify({ ...JSON.parse(localStorage.getItem('${SESSION_KEY}')), idToken: ${JSON.stringify(expired)} }))`,
    );
    await alice.reload();
    await alice.locator('[data-testid="order-item"] .pick-id', { hasText: order }).waitFor();
    await alice.waitForFunction(
      `JSON.parse(localStorage.getItem('${SESSION_KEY}')).idToken !== ${JSON.stringify(expired)}`,
    );
    const renewed = (await savedSession(alice))!;
    expect(claimsOf(renewed.idToken).exp * 1000).toBeGreaterThan(Date.now());
    expect(renewed.refreshToken).toBe(session.refreshToken);

    // Signing out forgets the tokens; the sign-in screen is back.
    await alice.getByTestId('sign-out').click();
    await alice.getByTestId('sign-in').waitFor();
    expect(await savedSession(alice)).toBeNull();
    expect(errors).toEqual([]);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

test('given a sign-in answer this tab did not ask for, when the page opens with it, then it stays signed out and says why', async () => {
  const context = await demo.current.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${demo.current.web.url}/?code=forged&state=forged`);
    await page.getByTestId('sign-in').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not for a sign-in this tab/);
    expect(new URL(page.url()).search).toBe('');
    expect(await savedSession(page)).toBeNull();
  } finally {
    await context.close();
  }
});
