/**
 * The demo app signed in, in real headless Chromium against the local runtime, its gateways
 * verifying every token, on both stacks: the sign-in screen lists the dev users and signs one in
 * with a click (the hosted sign-in's round trip, the user named in `login_hint`); alice and bob,
 * in two browser contexts, never see each other's orders; support lists every order by status,
 * may cancel alice's order but not change it (its controls say why), and alice's window shows
 * the cancellation live; signing out leaves nothing of alice in IndexedDB or localStorage, even
 * with a command pending. A list alice shares with bob: he may change its items (alice sees them
 * live) but not rename it. Screenshots (phone and desktop) go to /tmp/demo-shots/ (looked at by
 * hand, not compared).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ORDER_PERMISSIONS } from '../../lambdas/domain/order/permissions';
import { SHOPPING_LIST_PERMISSIONS } from '../../lambdas/domain/shopping-list/permissions';
import { authorizedFetch, signIn, useDemoApp } from '../support/browser';

const SHOTS = process.env.DEMO_SHOTS_DIR ?? '/tmp/demo-shots';

const demo = useDemoApp(`signin${process.pid}`);
beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// In-page code is given as strings: the root tsconfig has no DOM typings.

const expectCommands = (page: Page, type: string, state: string, count: number) =>
  page.waitForFunction(
    `document.querySelectorAll('[data-testid="command"][data-type="${type}"][data-state="${state}"]').length === ${count}`,
  );

/** The ids in the page's order list. */
const listedOrders = (page: Page) =>
  page
    .locator('[data-testid="order-item"] .pick-id')
    .allTextContents()
    .then((ids) => ids.map((id) => id.trim()));

/** Waits until the page's order list shows `id`. */
const listed = (page: Page, id: string) =>
  page.locator('[data-testid="order-item"] .pick-id', { hasText: id }).waitFor();

/** Everything of `user` the page's origin keeps: IndexedDB database names and records, storage keys. */
const traces = (page: Page, user: string) =>
  page.evaluate(`(async () => {
    const user = ${JSON.stringify(user)};
    const found = [];
    for (const { name } of await indexedDB.databases()) {
      if (name.includes(user)) found.push('database ' + name);
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of db.objectStoreNames) {
        const records = await new Promise((resolve) => {
          const request = db.transaction(store, 'readonly').objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
        });
        for (const record of records)
          if (JSON.stringify(record).includes(user)) found.push('record in ' + name + '/' + store);
      }
      db.close();
    }
    for (const storage of [localStorage, sessionStorage])
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (key.includes(user) || storage.getItem(key).includes('"' + user + '"')) found.push('key ' + key);
      }
    return found;
  })()`) as Promise<string[]>;

describe.each(['decoupled', 'coupled'] as const)('signed in on the %s stack', (stack) => {
  test('alice and bob see only their own orders; support cancels alice’s and she sees it live; signing out leaves nothing of her', async () => {
    const url = demo.current.web.url;
    const contexts: BrowserContext[] = [];
    const open = async (viewport: { width: number; height: number }) => {
      const context = await demo.current.browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(String(error)));
      return { context, page };
    };
    const errors: string[] = [];
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(SHOTS, `sign-in-${stack}-${name}.png`), fullPage: true });
    try {
      // The sign-in screen lists every dev user, each with their role.
      const alice = await open(DESKTOP);
      await alice.page.goto(`${url}/?stack=${stack}`);
      await alice.page.getByTestId('sign-in-alice').waitFor();
      expect(
        await alice.page.locator('[data-testid^="sign-in-"] .user-name').allTextContents(),
      ).toEqual(['Alice', 'Bob', 'Support', 'Admin']);
      await shot(alice.page, 'screen-desktop');

      // Alice signs in with one click and creates an order: it names no customer, it is hers.
      await signIn(alice.page, url, 'alice', `?stack=${stack}`);
      await alice.page.getByTestId('create-order').click();
      await expectCommands(alice.page, 'order/create', 'confirmed', 1);
      const aliceOrder = (await alice.page.locator('[data-testid="order"] h2').textContent())!;
      await alice.page.getByTestId('sku').fill('ALICE-1');
      await alice.page.getByTestId('add-line').click();
      await expectCommands(alice.page, 'order/addLine', 'confirmed', 1);

      // Bob, on a phone, makes his own; neither list shows the other's order.
      const bob = await open(PHONE);
      await bob.page.goto(`${url}/?stack=${stack}`);
      await bob.page.getByTestId('sign-in-bob').waitFor();
      await shot(bob.page, 'screen-phone');
      await signIn(bob.page, url, 'bob', `?stack=${stack}`);
      await bob.page.getByTestId('create-order').click();
      await expectCommands(bob.page, 'order/create', 'confirmed', 1);
      const bobOrder = (await bob.page.locator('[data-testid="order"] h2').textContent())!;
      await bob.page.reload();
      await listed(bob.page, bobOrder);
      await alice.page.reload();
      await listed(alice.page, aliceOrder);
      expect(await listedOrders(bob.page)).not.toContain(aliceOrder);
      expect(await listedOrders(alice.page)).not.toContain(bobOrder);
      expect(await bob.page.getByTestId('orders-title').textContent()).toBe('My orders');
      await shot(bob.page, 'bob-phone');

      // Bob opening alice's order by its id (a link) finds nothing: the server answers 404.
      await bob.page.evaluate(
        `sessionStorage.setItem('demo:u:bob:${stack}:selected', '${aliceOrder}')`,
      );
      await bob.page.reload();
      await bob.page.getByTestId('order-status').filter({ hasText: 'not found' }).waitFor();
      expect(await bob.page.getByTestId('line').count()).toBe(0);

      // Alice keeps her order open, followed live.
      await alice.page.getByTestId('order-item').filter({ hasText: aliceOrder }).click();
      await alice.page
        .getByTestId('live')
        .filter({ hasText: /^\s*live\s*$/ })
        .waitFor();
      await alice.page.evaluate('window.notReloaded = true');

      // Support lists every draft order, alice's among them with her name.
      const support = await open(DESKTOP);
      await signIn(support.page, url, 'support', `?stack=${stack}`);
      expect(await support.page.getByTestId('orders-title').textContent()).toBe('All orders');
      await support.page.getByTestId('status-filter').selectOption('draft');
      await listed(support.page, aliceOrder);
      const item = support.page.getByTestId('order-item').filter({ hasText: aliceOrder });
      expect(await item.textContent()).toContain('alice');
      await item.click();
      await support.page.getByTestId('order-customer').filter({ hasText: 'alice' }).waitFor();

      // Support may not change alice's order: its controls are off and say why ...
      expect(await support.page.getByTestId('read-only').textContent()).toContain(
        ORDER_PERMISSIONS.OWNER_ONLY,
      );
      for (const control of ['sku', 'add-line', 'submit', 'remove-line']) {
        expect(await support.page.getByTestId(control).first().isDisabled()).toBe(true);
      }
      // ... but may cancel it.
      expect(await support.page.getByTestId('cancel').isDisabled()).toBe(false);
      await shot(support.page, 'support-desktop');
      await support.page.getByTestId('cancel').click();
      await expectCommands(support.page, 'order/cancel', 'confirmed', 1);

      // Alice's window shows it cancelled, live, without a reload.
      await alice.page.getByTestId('order-status').filter({ hasText: 'cancelled' }).waitFor();
      expect(await alice.page.evaluate('window.notReloaded')).toBe(true);
      await shot(alice.page, 'alice-cancelled-desktop');

      // Offline, alice queues one more order: it waits in her IndexedDB outbox.
      await alice.context.setOffline(true);
      await alice.page.getByTestId('create-order').click();
      await expectCommands(alice.page, 'order/create', 'pending', 1);
      expect(await traces(alice.page, 'alice')).toEqual(
        expect.arrayContaining([expect.stringMatching(/^record in orders-demo-/)]),
      );

      // Signing out (still offline) leaves nothing of alice: no database, record or key.
      await alice.page.getByTestId('sign-out').click();
      await alice.page.getByTestId('sign-in').waitFor();
      expect(await traces(alice.page, 'alice')).toEqual([]);
      await alice.context.setOffline(false);

      // The server has the order support cancelled, and never got the one left pending.
      const base =
        stack === 'decoupled' ? demo.current.runtime.decoupledUrl : demo.current.runtime.coupledUrl;
      const answer = await authorizedFetch(
        demo.current,
        'alice',
        `${base}/orders?customerId=alice&limit=100`,
      );
      const orders = ((await answer.json()) as { items: { id: string; status: string }[] }).items;
      expect(orders.find((o) => o.id === aliceOrder)?.status).toBe('cancelled');
      expect(errors).toEqual([]);
    } catch (error) {
      for (const [i, context] of contexts.entries())
        for (const page of context.pages())
          await page.screenshot({ path: join(SHOTS, `sign-in-${stack}-failure-${i}.png`) });
      throw error;
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });
});

test('a list alice shares with bob: he changes its items, she sees them live; he may not rename it', async () => {
  const url = demo.current.web.url;
  const contexts = await Promise.all([
    demo.current.browser.newContext({ viewport: DESKTOP }),
    demo.current.browser.newContext({ viewport: PHONE }),
  ]);
  const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors: string[] = [];
  for (const page of [alice!, bob!]) page.on('pageerror', (error) => errors.push(String(error)));
  const items = (page: Page, count: number) =>
    page.waitForFunction(`document.querySelectorAll('[data-testid="item"]').length === ${count}`);
  try {
    await signIn(alice!, url, 'alice', '?stack=decoupled#lists');
    await alice!.getByTestId('new-list-name').fill('Shared groceries');
    await alice!.getByTestId('create-list').click();
    await expectCommands(alice!, 'shoppingList/create', 'confirmed', 1);
    const listId = (await alice!.getByTestId('list').getAttribute('data-list-id'))!;
    await alice!.getByTestId('share-with').fill('bob');
    await alice!.getByTestId('share').click();
    await expectCommands(alice!, 'shoppingList/share', 'confirmed', 1);
    expect(await alice!.getByTestId('shared-user').allTextContents()).toEqual(['bob×']);

    // Bob opens it (as a link would): he may add an item, not rename, share or delete it.
    await signIn(bob!, url, 'bob', '?stack=decoupled#lists');
    await bob!.evaluate(
      `sessionStorage.setItem('demo:u:bob:decoupled:selected-list', '${listId}')`,
    );
    await bob!.reload();
    await bob!.getByTestId('list-title').filter({ hasText: 'Shared groceries' }).waitFor();
    for (const control of ['rename-list', 'share', 'delete-list']) {
      expect(await bob!.getByTestId(control).isDisabled()).toBe(true);
    }
    expect(await bob!.getByTestId('rename-list').getAttribute('title')).toBe(
      SHOPPING_LIST_PERMISSIONS.OWNER_ONLY,
    );
    await bob!.getByTestId('item-text').fill('Coffee');
    await bob!.getByTestId('add-item').click();
    await expectCommands(bob!, 'shoppingList/addItem', 'confirmed', 1);
    await alice!
      .getByTestId('live')
      .filter({ hasText: /^\s*live\s*$/ })
      .waitFor();
    await items(alice!, 1);
    expect(await alice!.getByTestId('item').textContent()).toContain('Coffee');
    await bob!.screenshot({ path: join(SHOTS, 'sign-in-shared-list-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
  } catch (error) {
    await alice!.screenshot({ path: join(SHOTS, 'sign-in-shared-list-failure-alice.png') });
    await bob!.screenshot({ path: join(SHOTS, 'sign-in-shared-list-failure-bob.png') });
    throw error;
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});
