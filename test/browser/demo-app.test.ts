/**
 * The demo app in real headless Chromium (Debian's package, driven by playwright-core) against
 * the real local runtime and web server on free ports: a command shown pending then confirmed,
 * commands made offline kept across a reload and sent once back online (each commandId once in
 * /events), an empty order's Submit off with the rule's message; the same order open in two windows
 * (two browser contexts, so only the WebSocket push can carry a change), each window's change
 * shown in the other without a reload. The shopping-lists page the same way: items added and
 * checked pending then confirmed, a duplicate rejected with its rule, a second window (phone
 * sized) following the list live. Each window signs in as alice first (the sign-in screen, one
 * click); what the server stored is read with her token. Cross-origin calls, so CORS is real.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ORDER_RULES } from '../../lambdas/domain/order';
import { SHOPPING_LIST_RULES } from '../../lambdas/domain/shopping-list';
import { authorizedFetch, signIn, useDemoApp, waitForServiceWorker } from '../support/browser';

const OUTPUT = join(__dirname, '..', '..', 'test-output', 'browser');

const demo = useDemoApp(`web${process.pid}`);
beforeAll(() => {
  mkdirSync(OUTPUT, { recursive: true });
});

const commands = (page: Page, type: string, state?: string) =>
  page.locator(
    `[data-testid="command"][data-type="${type}"]${state ? `[data-state="${state}"]` : ''}`,
  );

// In-page code is given as strings: the root tsconfig has no DOM typings (the client must not
// rely on them), and these few lines need none.

/** Waits until `count` commands of `type` are in `state`. */
const expectCommands = (page: Page, type: string, state: string, count: number) =>
  page.waitForFunction(
    `document.querySelectorAll('[data-testid="command"][data-type="${type}"][data-state="${state}"]').length === ${count}`,
  );

/** Records every state each command shows, as React renders it (a MutationObserver). */
const RECORD_STATES = `(() => {
  const seen = (window.seen = []);
  const record = () =>
    document.querySelectorAll('[data-testid="command"]').forEach((el) => {
      const entry = el.dataset.commandId + ':' + el.dataset.type + ':' + el.dataset.state;
      if (!seen.includes(entry)) seen.push(entry);
    });
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
})()`;

const text = async (page: Page, testId: string) =>
  (await page.getByTestId(testId).first().textContent())?.trim();

describe.each(['decoupled', 'coupled'] as const)('the demo app on the %s stack', (stack) => {
  test('pending then confirmed; offline, reload, online: each command stored once; an empty order says why it cannot be submitted', async () => {
    const context = await demo.current.browser.newContext({
      viewport: { width: 1200, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    try {
      await signIn(page, demo.current.web.url, 'alice', `?stack=${stack}`);
      // The service worker controls the page before we rely on it for the offline reload.
      await waitForServiceWorker(page);

      await page.getByTestId('create-order').click();
      await expectCommands(page, 'order/create', 'confirmed', 1);
      const orderId = (await page.locator('[data-testid="order"] h2').textContent())!.trim();

      await page.evaluate(RECORD_STATES);
      await page.getByTestId('sku').fill('SKU-A');
      await page.getByTestId('add-line').click();
      await expectCommands(page, 'order/addLine', 'confirmed', 1);
      const seen = (await page.evaluate('window.seen')) as string[];
      const first = seen.filter((s) => s.includes(':order/addLine:'));
      expect(first.map((s) => s.split(':')[2])).toEqual(['pending', 'confirmed']);
      expect(await page.getByTestId('line').count()).toBe(1);

      // Offline: two more lines, shown at once (optimistic) and pending in the outbox.
      await context.setOffline(true);
      await page.getByTestId('sku').fill('SKU-B');
      await page.getByTestId('add-line').click();
      await page.getByTestId('sku').fill('SKU-C');
      await page.getByTestId('add-line').click();
      await expectCommands(page, 'order/addLine', 'pending', 2);
      expect(await page.getByTestId('line').count()).toBe(3);
      expect(await text(page, 'outbox-length')).toBe('2');
      await page.waitForFunction(
        `document.querySelector('[data-testid="online"]').textContent.includes('Offline')`,
      );

      // A reload while offline: the shell from the service worker, the outbox from IndexedDB.
      await page.reload();
      await page.getByTestId('outbox-length').waitFor();
      await expectCommands(page, 'order/addLine', 'pending', 2);
      expect(await text(page, 'outbox-length')).toBe('2');
      expect(await text(page, 'online')).toContain('Offline');
      await page.waitForFunction(`document.querySelectorAll('[data-testid="line"]').length === 3`);
      await page.screenshot({ path: join(OUTPUT, `demo-${stack}-offline.png`), fullPage: true });

      // Online again: both sent, confirmed, and stored exactly once.
      // (The activity kept the first line's command across the reload: three in all.)
      await context.setOffline(false);
      await expectCommands(page, 'order/addLine', 'confirmed', 3);
      expect(await text(page, 'outbox-length')).toBe('0');
      expect(await text(page, 'online')).toContain('Online');
      const base =
        stack === 'decoupled' ? demo.current.runtime.decoupledUrl : demo.current.runtime.coupledUrl;
      const stored = (await (
        await authorizedFetch(demo.current, 'alice', `${base}/orders/${orderId}/events`)
      ).json()) as {
        events: { type: string; commandId: string; payload: { sku?: string } }[];
      };
      expect(stored.events.map((e) => e.type)).toEqual([
        'order/created',
        'order/lineAdded',
        'order/lineAdded',
        'order/lineAdded',
      ]);
      expect(stored.events.map((e) => e.payload.sku).slice(1)).toEqual(['SKU-A', 'SKU-B', 'SKU-C']);
      expect(new Set(stored.events.map((e) => e.commandId)).size).toBe(4);
      const shownIds = await commands(page, 'order/addLine', 'confirmed').evaluateAll((els) =>
        els.map((el) => (el as unknown as { dataset: { commandId: string } }).dataset.commandId),
      );
      for (const id of shownIds) expect(stored.events.map((e) => e.commandId)).toContain(id);

      // A rule the shared decide checks on the shown state: an empty order cannot be submitted,
      // so Submit is off and says why (the activity kept the first create across the reload).
      await page.getByTestId('create-order').click();
      await expectCommands(page, 'order/create', 'confirmed', 2);
      expect(await page.getByTestId('submit').isDisabled()).toBe(true);
      expect(await text(page, 'submit-refusal')).toContain(ORDER_RULES.ORDER_EMPTY);

      // Back to the first order: its history slider covers its four versions.
      await page.getByTestId('order-item').filter({ hasText: orderId }).click();
      await page.getByTestId('history-slider').waitFor();
      expect(await page.getByTestId('history-slider').getAttribute('max')).toBe('4');
      await page.getByTestId('history-slider').fill('2');
      await page.waitForFunction(
        `/Version 2 of 4 · .*\\b1 line\\b/.test(document.querySelector('[data-testid="history-caption"]').textContent)`,
      );
      // Who made that version, then the event that made it
      await page
        .getByTestId('history-event')
        .filter({ hasText: /^made by alice · order\/lineAdded at / })
        .waitFor();
      await page.screenshot({ path: join(OUTPUT, `demo-${stack}.png`), fullPage: true });
      expect(errors).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: join(OUTPUT, `demo-${stack}-failure.png`), fullPage: true });
      throw error;
    } finally {
      await context.close();
    }
  });
});

describe.each(['decoupled', 'coupled'] as const)('two windows on the %s stack', (stack) => {
  test('the same order open in two windows: a change in one shows in the other, no reload', async () => {
    // Two contexts: no shared IndexedDB or BroadcastChannel, as two devices; only push links them.
    const contexts = await Promise.all([1, 2].map(() => demo.current.browser.newContext()));
    const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
    const errors: string[] = [];
    for (const page of [a!, b!]) page.on('pageerror', (error) => errors.push(String(error)));
    const lines = (page: Page, count: number) =>
      page.waitForFunction(`document.querySelectorAll('[data-testid="line"]').length === ${count}`);
    const isLive = (page: Page) =>
      page.waitForFunction(
        `document.querySelector('[data-testid="live"]')?.textContent.trim() === 'live'`,
      );
    try {
      await signIn(a!, demo.current.web.url, 'alice', `?stack=${stack}`);
      await a!.getByTestId('create-order').click();
      await expectCommands(a!, 'order/create', 'confirmed', 1);
      const orderId = (await a!.locator('[data-testid="order"] h2').textContent())!.trim();
      await isLive(a!);

      // Window B, alice on another device, opens the same order (as a link to it would).
      await signIn(b!, demo.current.web.url, 'alice', `?stack=${stack}`);
      await b!.evaluate(`sessionStorage.setItem('demo:u:alice:${stack}:selected', '${orderId}')`);
      await b!.reload();
      await isLive(b!);
      await b!.evaluate('window.notReloaded = true');

      await a!.getByTestId('sku').fill('FROM-A');
      await a!.getByTestId('add-line').click();
      await lines(b!, 1);
      expect(await b!.getByTestId('line').first().textContent()).toContain('FROM-A');

      await b!.getByTestId('sku').fill('FROM-B');
      await b!.getByTestId('add-line').click();
      await lines(a!, 2);
      await lines(b!, 2);
      expect(await b!.evaluate('window.notReloaded')).toBe(true);
      await b!.screenshot({ path: join(OUTPUT, `two-windows-${stack}.png`), fullPage: true });
      expect(errors).toEqual([]);
    } catch (error) {
      await b!.screenshot({ path: join(OUTPUT, `two-windows-${stack}-failure.png`) });
      throw error;
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });
});

describe.each(['decoupled', 'coupled'] as const)('shopping lists on the %s stack', (stack) => {
  test('items pending then confirmed, a duplicate rejected with its rule; another window follows live', async () => {
    // A desktop window and a phone-sized one, in two contexts: only push links them.
    const contexts = await Promise.all([
      demo.current.browser.newContext({ viewport: { width: 1280, height: 800 } }),
      demo.current.browser.newContext({ viewport: { width: 390, height: 844 } }),
    ]);
    const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
    const errors: string[] = [];
    for (const page of [a!, b!]) page.on('pageerror', (error) => errors.push(String(error)));
    const items = (page: Page, count: number) =>
      page.waitForFunction(`document.querySelectorAll('[data-testid="item"]').length === ${count}`);
    const checked = (page: Page, count: number) =>
      page.waitForFunction(
        `document.querySelectorAll('[data-testid="item"][data-checked="true"]').length === ${count}`,
      );
    const isLive = (page: Page) =>
      page.waitForFunction(
        `document.querySelector('[data-testid="live"]')?.textContent.trim() === 'live'`,
      );
    const addItem = async (page: Page, itemText: string) => {
      await page.getByTestId('item-text').fill(itemText);
      await page.getByTestId('add-item').click();
    };
    try {
      await signIn(a!, demo.current.web.url, 'alice', `?stack=${stack}#lists`);
      await a!.getByTestId('new-list-name').fill('Weekend');
      await a!.getByTestId('create-list').click();
      await expectCommands(a!, 'shoppingList/create', 'confirmed', 1);
      const listId = (await a!.getByTestId('list').getAttribute('data-list-id'))!;

      // Two items and a check: each command shown pending, then confirmed.
      await a!.evaluate(RECORD_STATES);
      await addItem(a!, 'Milk');
      await addItem(a!, 'Bread');
      await expectCommands(a!, 'shoppingList/addItem', 'confirmed', 2);
      await a!.getByTestId('item-check').first().click();
      await expectCommands(a!, 'shoppingList/toggleItem', 'confirmed', 1);
      await checked(a!, 1);
      const seen = (await a!.evaluate('window.seen')) as string[];
      const byCommand = new Map<string, string[]>();
      for (const [commandId, type, state] of seen.map((s) => s.split(':'))) {
        if (type === 'shoppingList/create') continue;
        byCommand.set(commandId!, [...(byCommand.get(commandId!) ?? []), state!]);
      }
      expect([...byCommand.values()]).toEqual([
        ['pending', 'confirmed'],
        ['pending', 'confirmed'],
        ['pending', 'confirmed'],
      ]);

      // The same text again (case and spaces ignored): rejected, the rule's message shown.
      await addItem(a!, ' milk ');
      await expectCommands(a!, 'shoppingList/addItem', 'rejected', 1);
      expect(await commands(a!, 'shoppingList/addItem', 'rejected').textContent()).toContain(
        SHOPPING_LIST_RULES.DUPLICATE_ITEM_TEXT,
      );
      await items(a!, 2);

      // Offline: an item and a check shown at once, pending in the outbox; sent once online.
      await contexts[0]!.setOffline(true);
      await a!.waitForFunction(
        `document.querySelector('[data-testid="online"]').textContent.includes('Offline')`,
      );
      await addItem(a!, 'Apples');
      await a!.getByTestId('item-check').nth(1).click();
      await items(a!, 3);
      await checked(a!, 2);
      await expectCommands(a!, 'shoppingList/addItem', 'pending', 1);
      await expectCommands(a!, 'shoppingList/toggleItem', 'pending', 1);
      expect(await text(a!, 'outbox-length')).toBe('2');
      expect(await a!.locator('[data-testid="item"] .pending-badge').count()).toBe(2);
      await a!.screenshot({ path: join(OUTPUT, `lists-${stack}-offline.png`), fullPage: true });
      await contexts[0]!.setOffline(false);
      await expectCommands(a!, 'shoppingList/addItem', 'confirmed', 3);
      await expectCommands(a!, 'shoppingList/toggleItem', 'confirmed', 2);

      // Window B, the same owner on another device, opens the list (as a link to it would); the
      // server's list of her lists names it there, as B never made it.
      await signIn(b!, demo.current.web.url, 'alice', `?stack=${stack}#lists`);
      await b!.evaluate(
        `sessionStorage.setItem('demo:u:alice:${stack}:selected-list', '${listId}')`,
      );
      await b!.reload();
      await Promise.all([isLive(a!), isLive(b!)]);
      await b!.locator(`[data-testid="list-item"][data-list-id="${listId}"]`).waitFor();
      await b!.evaluate('window.notReloaded = true');
      await items(b!, 3);

      await addItem(a!, 'Eggs');
      await items(b!, 4);
      expect(await b!.getByTestId('item').last().textContent()).toContain('Eggs');
      await b!.getByTestId('item-check').last().click();
      await checked(a!, 3);
      await a!.getByTestId('list-name').fill('Weekend market');
      await a!.getByTestId('rename-list').click();
      await b!.waitForFunction(
        `document.querySelector('[data-testid="list-title"]').textContent === 'Weekend market'`,
      );
      expect(await b!.evaluate('window.notReloaded')).toBe(true);
      await expectCommands(b!, 'shoppingList/toggleItem', 'confirmed', 1);
      await a!.screenshot({ path: join(OUTPUT, `lists-${stack}-desktop.png`), fullPage: true });
      await b!.screenshot({ path: join(OUTPUT, `lists-${stack}-phone.png`), fullPage: true });

      // Deleted: gone from the owner's lists, shown as deleted where it is open.
      await a!.getByTestId('delete-list').click();
      await expectCommands(a!, 'shoppingList/delete', 'confirmed', 1);
      expect(await text(a!, 'list-status')).toBe('deleted');
      expect(await a!.locator(`[data-testid="list-item"][data-list-id="${listId}"]`).count()).toBe(
        0,
      );
      expect(errors).toEqual([]);
    } catch (error) {
      await a!.screenshot({ path: join(OUTPUT, `lists-${stack}-failure-a.png`), fullPage: true });
      await b!.screenshot({ path: join(OUTPUT, `lists-${stack}-failure-b.png`), fullPage: true });
      throw error;
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });
});
