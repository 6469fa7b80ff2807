/**
 * The demo app on a phone (390×844) and a desktop (1280×800) screen, in real headless Chromium
 * against the real local runtime (decoupled stack: the screens are the same on both): no
 * horizontal overflow, every control inside the screen's width with its label uncut; a field's
 * validation message from the API's `details.issues`; a submitted order confirmed by the
 * fulfilment workflow, read-only, its history naming who made each version (alice, the
 * workflow); an order of an unstocked SKU rejected, the SKU marked short; the history at version
 * 1 showing version 1; offline not "live"; an order the server lost shown as gone;
 * the activity kept across a reload; the store's actions seen by Redux DevTools; the sign-in
 * screen fitting too. Each page signs in as alice first. Screenshots go to /tmp/demo-shots/
 * (looked at by hand, not compared).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { signIn, useDemoApp, waitForServiceWorker } from '../support/browser';

const SHOTS = process.env.DEMO_SHOTS_DIR ?? '/tmp/demo-shots';
const STACK = 'decoupled';

const demo = useDemoApp(`screens${process.pid}`);
beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

// In-page code is given as strings: the root tsconfig has no DOM typings.

/**
 * A stand-in for the Redux DevTools extension: its compose, recording the name the store gives
 * and every action that reaches the reducer (as the extension's monitor would list them).
 */
const FAKE_DEVTOOLS = `(() => {
  window.devtools = { name: undefined, actions: [] };
  window.__REDUX_DEVTOOLS_EXTENSION_COMPOSE__ = (options) => (...enhancers) => (createStore) =>
    (reducer, preloaded) => {
      window.devtools.name = options.name;
      const recording = (state, action) => {
        window.devtools.actions.push(action.type);
        return reducer(state, action);
      };
      const enhanced = enhancers.reduceRight((next, enhancer) => enhancer(next), createStore);
      const store = enhanced(recording, preloaded);
      window.devtools.dispatch = store.dispatch;
      return store;
    };
})()`;

/**
 * What does not fit the screen: the page's own overflow, and each visible control (buttons,
 * inputs, links, badges, pills) outside the viewport's width or with its text cut.
 */
const LAYOUT_PROBLEMS = `(() => {
  const width = window.innerWidth;
  const problems = [];
  const page = document.documentElement.scrollWidth;
  if (page !== width) problems.push('page is ' + page + ' px wide, the screen ' + width);
  const controls = document.querySelectorAll(
    'button, input, select, a, .badge, .pill, [data-testid="history-slider"]',
  );
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (el.closest('.visually-hidden')) continue;
    const name = el.tagName.toLowerCase() + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') +
      ' "' + (el.textContent || el.value || el.placeholder || '').trim().slice(0, 30) + '"';
    if (box.left < -0.5 || box.right > width + 0.5)
      problems.push(name + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right));
    const isLabelled = el.matches('button, a, .badge, .pill');
    if (isLabelled && el.scrollWidth > el.clientWidth + 1)
      problems.push(name + ' text cut: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  return problems;
})()`;

const expectFits = async (page: Page) => expect(await page.evaluate(LAYOUT_PROBLEMS)).toEqual([]);

/** The check itself catches a control pushed past the screen's edge and a cut label. */
const expectCheckCatches = async (page: Page) => {
  await page.evaluate(`(() => {
    const button = document.querySelector('[data-testid="add-line"]');
    button.dataset.saved = button.getAttribute('style') || '';
    button.style.cssText = 'width: 40px; margin-left: ' + window.innerWidth + 'px; overflow: hidden';
  })()`);
  const problems = (await page.evaluate(LAYOUT_PROBLEMS)) as string[];
  expect(problems.join('\n')).toMatch(/page is \d+ px wide/);
  expect(problems.join('\n')).toMatch(/add-line.*spans/);
  expect(problems.join('\n')).toMatch(/add-line.*text cut/);
  await page.evaluate(
    `(() => { const b = document.querySelector('[data-testid="add-line"]'); b.style.cssText = b.dataset.saved; })()`,
  );
  await expectFits(page);
};

/** The element's box is on the first screen (seen without scrolling). */
const expectOnFirstScreen = async (page: Page, testId: string) => {
  const box = (await page.getByTestId(testId).boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
};

const expectCommands = (page: Page, type: string, state: string, count: number) =>
  page.waitForFunction(
    `document.querySelectorAll('[data-testid="command"][data-type="${type}"][data-state="${state}"]').length === ${count}`,
  );

const liveText = (page: Page, expected: string) =>
  page.waitForFunction(
    `document.querySelector('[data-testid="live"]')?.textContent.trim() === '${expected}'`,
  );

/** The history panel names who made the shown version (`actor`), then its event's type. */
const expectHistoryMadeBy = async (page: Page, actor: string, eventType: string) => {
  await page.getByTestId('history-actor').filter({ hasText: actor }).waitFor();
  expect(await page.getByTestId('history-event').textContent()).toMatch(
    new RegExp(`^made by ${actor} · ${eventType} at `),
  );
};

/** The activity's line about the latest command of `type`: what the server did with it. */
const commandText = (page: Page, type: string) =>
  page.locator(`[data-testid="command"][data-type="${type}"] .command-state`).first().textContent();

const SCREENS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

describe.each(SCREENS)('the demo app on a $name screen ($width×$height)', (screen) => {
  test('orders: fits the screen; field messages, read-only once submitted, history, offline, gone, reload', async () => {
    const context = await demo.current.browser.newContext({
      viewport: { width: screen.width, height: screen.height },
    });
    await context.addInitScript(FAKE_DEVTOOLS);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const shot = (name: string) =>
      page.screenshot({ path: join(SHOTS, `${name}-${screen.name}.png`), fullPage: true });
    try {
      // Given the sign-in screen, fitting the screen too
      await page.goto(`${demo.current.web.url}/?stack=${STACK}`);
      await page.getByTestId('sign-in-alice').waitFor();
      await expectFits(page);
      await shot('sign-in');

      // Given alice's order with one line the server accepted (a SKU the demo stocks)
      await signIn(page, demo.current.web.url, 'alice', `?stack=${STACK}`);
      await page.getByTestId('create-order').click();
      await expectCommands(page, 'order/create', 'confirmed', 1);
      const orderId = (await page.locator('[data-testid="order"] h2').textContent())!.trim();
      await page.getByTestId('sku').fill('SKU-1');
      await page.getByTestId('add-line').click();
      await expectCommands(page, 'order/addLine', 'confirmed', 1);

      // When a line's quantity is over the schema's maximum, the API rejects it with
      // VALIDATION_FAILED: the field's message shows under the field, the rejection on top
      await page.getByTestId('quantity').fill('20000');
      await page.getByTestId('add-line').click();
      await expectCommands(page, 'order/addLine', 'rejected', 1);
      expect(await page.getByTestId('field-error-quantity').textContent()).toContain(
        'at most 10000',
      );
      expect(await page.getByTestId('rejection').textContent()).toContain('quantity');
      await expectOnFirstScreen(page, 'rejection');
      // Once the field is edited its message no longer describes it and goes; the notice stays
      await page.getByTestId('quantity').fill('2');
      await page.getByTestId('field-error-quantity').waitFor({ state: 'detached' });
      expect(await page.getByTestId('rejection').isVisible()).toBe(true);
      await expectFits(page);
      await expectCheckCatches(page);
      await shot('order-draft');

      // When it is submitted, the fulfilment workflow reserves its stock and confirms it: the
      // status moves on live (push); only what decide allows stays enabled (cancel)
      await page.getByTestId('submit').click();
      await expectCommands(page, 'order/submit', 'confirmed', 1);
      await page.locator('[data-testid="order-status"]:text-is("confirmed")').waitFor();
      for (const control of ['sku', 'quantity', 'add-line', 'line-quantity', 'remove-line']) {
        expect(await page.getByTestId(control).first().isDisabled()).toBe(true);
      }
      expect(await page.getByTestId('submit').isDisabled()).toBe(true);
      expect(await page.getByTestId('cancel').isDisabled()).toBe(false);
      await expectOnFirstScreen(page, 'read-only');
      expect(await page.getByTestId('order-outcome').textContent()).toContain('Confirmed');

      // The history's latest version (order/confirmed) was made by the workflow, named as one;
      // the state the server has is not called "confirmed", nor is the submit it accepted
      await expectHistoryMadeBy(page, 'workflow order-fulfilment', 'order/confirmed');
      expect(await page.getByTestId('history-actor').getAttribute('title')).toBe(
        'process:order-fulfilment',
      );
      expect(await page.locator('.history-label').textContent()).toBe('As the server has it now');
      expect(await commandText(page, 'order/submit')).toMatch(/^accepted · v3/);
      await expectFits(page);
      await shot('order-confirmed');

      // When the history slider is at version 1, the order is shown as it was then
      await page.getByTestId('history-slider').fill('1');
      await page.locator('[data-testid="history-state"][data-version="1"]').waitFor();
      expect(await page.getByTestId('history-status').textContent()).toBe('draft');
      expect(await page.getByTestId('history-line').count()).toBe(0);
      await expectHistoryMadeBy(page, 'alice', 'order/created');
      await expectFits(page);
      await shot('order-submitted-history');

      // Offline: the order is not "live"
      await liveText(page, 'live');
      await context.setOffline(true);
      await liveText(page, 'not live');
      expect(await page.getByTestId('live').getAttribute('class')).not.toContain('ok');
      await shot('order-offline');
      await context.setOffline(false);
      await liveText(page, 'live');

      // Redux DevTools saw the commands and their confirmations, on a named store
      const devtools = (await page.evaluate('window.devtools')) as {
        name: string;
        actions: string[];
      };
      expect(devtools.name).toBe(`orders-demo-${STACK}-alice`);
      expect(devtools.actions).toEqual(
        expect.arrayContaining(['command/queued', 'command/confirmed', 'command/rejected']),
      );

      // A newer server (an event this code cannot read): the page offers the reload
      expect(await page.getByTestId('outdated').count()).toBe(0);
      await page.evaluate(
        `window.devtools.dispatch({ type: 'app/outdated', payload: { reason: 'Stored event 2 is unreadable' } })`,
      );
      expect(await page.getByTestId('outdated').textContent()).toContain('reload to use it');
      await expectFits(page);
      await shot('order-outdated');

      // The activity survives a reload
      const before = await page.getByTestId('command').allTextContents();
      expect(before.length).toBe(4);
      await page.reload();
      await expectCommands(page, 'order/submit', 'confirmed', 1);
      expect(await page.getByTestId('command').allTextContents()).toEqual(before);

      // An order this browser shows but the server no longer has (as after an in-memory
      // restart): a copy of the confirmed view under an id the server never stored, opened
      // offline, and a line added to it there
      const vanished = `${orderId}-vanished`;
      await waitForServiceWorker(page);
      await page.evaluate(`(() => {
        const key = 'demo:u:alice:${STACK}:confirmed';
        const saved = JSON.parse(localStorage.getItem(key));
        const copy = JSON.parse(JSON.stringify(saved['${orderId}']));
        copy.view.id = '${vanished}';
        copy.view.status = 'draft';
        saved['${vanished}'] = copy;
        localStorage.setItem(key, JSON.stringify(saved));
        sessionStorage.setItem('demo:u:alice:${STACK}:selected', '${vanished}');
      })()`);
      await context.setOffline(true);
      await page.reload();
      await page.getByTestId('sku').fill('SKU-LOST');
      await page.getByTestId('add-line').click();
      await expectCommands(page, 'order/addLine', 'pending', 1);

      // When the network is back, the queued command comes back NOT_FOUND: the order is shown
      // gone, not live, and read-only
      await context.setOffline(false);
      await expectCommands(page, 'order/addLine', 'rejected', 2);
      await page.getByTestId('gone').waitFor();
      await liveText(page, 'gone');
      expect(await page.getByTestId('order-status').textContent()).toBe('gone');
      expect(await page.getByTestId('add-line').isDisabled()).toBe(true);

      // After a reload online, the view's 404 (and no events) tells the same
      await page.reload();
      await page.getByTestId('gone').waitFor();
      await liveText(page, 'gone');
      await expectFits(page);
      await shot('order-gone');
      expect(errors).toEqual([]);
    } catch (error) {
      await shot('order-failure');
      throw error;
    } finally {
      await context.close();
    }
  });

  test('a rejected order: fits the screen; the SKU short named, the workflow as who rejected it, no "by" for an event without an actor', async () => {
    const context = await demo.current.browser.newContext({
      viewport: { width: screen.width, height: screen.height },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const shot = (name: string) =>
      page.screenshot({ path: join(SHOTS, `${name}-${screen.name}.png`), fullPage: true });
    try {
      // Given alice's order of a stocked SKU and one nobody stocks
      await signIn(page, demo.current.web.url, 'alice', `?stack=${STACK}`);
      await page.getByTestId('create-order').click();
      await expectCommands(page, 'order/create', 'confirmed', 1);
      for (const sku of ['SKU-2', 'SKU-NOT-STOCKED']) {
        await page.getByTestId('sku').fill(sku);
        await page.getByTestId('add-line').click();
      }
      await expectCommands(page, 'order/addLine', 'confirmed', 2);

      // When it is submitted, the workflow cannot reserve the second SKU: the order is rejected,
      // that line marked short, and the submit itself shown as accepted (not "rejected")
      await page.getByTestId('submit').click();
      await page.locator('[data-testid="order-status"]:text-is("rejected")').waitFor();
      expect(await page.getByTestId('order-outcome').textContent()).toBe(
        'Rejected: not enough stock (SKU-NOT-STOCKED).',
      );
      expect(await page.getByTestId('line').getByTestId('line-short').count()).toBe(1);
      expect(await page.getByTestId('line').filter({ hasText: 'short' }).textContent()).toContain(
        'SKU-NOT-STOCKED',
      );
      expect(await commandText(page, 'order/submit')).toMatch(/^accepted · v4/);
      expect(await page.getByTestId('rejection').count()).toBe(0);

      // Then the history's latest version is the workflow's order/rejected
      await expectHistoryMadeBy(page, 'workflow order-fulfilment', 'order/rejected');
      await expectFits(page);
      await shot('order-rejected');

      // An event stored before users has no actor: its version says nothing about "by"
      await page.route(
        (url) => url.pathname.endsWith('/history'),
        async (route) => {
          const response = await route.fetch();
          const answer = (await response.json()) as Record<string, unknown>;
          delete answer.actor;
          await route.fulfill({ response, json: answer });
        },
      );
      await page.getByTestId('history-slider').fill('1');
      await page.locator('[data-testid="history-state"][data-version="1"]').waitFor();
      await page.getByTestId('history-event').filter({ hasText: 'order/created' }).waitFor();
      expect(await page.getByTestId('history-actor').count()).toBe(0);
      expect(await page.getByTestId('history-event').textContent()).toMatch(/^order\/created at /);
      expect(errors).toEqual([]);
    } catch (error) {
      await shot('order-rejected-failure');
      throw error;
    } finally {
      await context.close();
    }
  });

  test('shopping lists: fits the screen; a blank name gets its field message; the history names who made a version', async () => {
    const context = await demo.current.browser.newContext({
      viewport: { width: screen.width, height: screen.height },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const shot = (name: string) =>
      page.screenshot({ path: join(SHOTS, `${name}-${screen.name}.png`), fullPage: true });
    try {
      // Given alice's list with two items, one checked
      await signIn(page, demo.current.web.url, 'alice', `?stack=${STACK}#lists`);
      await page.getByTestId('new-list-name').fill('Weekend market with a long name');
      await page.getByTestId('create-list').click();
      await expectCommands(page, 'shoppingList/create', 'confirmed', 1);
      for (const item of ['Milk', 'Sourdough bread from the bakery on the corner']) {
        await page.getByTestId('item-text').fill(item);
        await page.getByTestId('add-item').click();
      }
      await expectCommands(page, 'shoppingList/addItem', 'confirmed', 2);
      await page.getByTestId('item-check').first().click();
      await expectCommands(page, 'shoppingList/toggleItem', 'confirmed', 1);

      // When it is renamed to blanks, the API's field message shows by the name
      await page.getByTestId('list-name').fill('   ');
      await page.getByTestId('rename-list').click();
      await expectCommands(page, 'shoppingList/rename', 'rejected', 1);
      expect(await page.getByTestId('field-error-name').textContent()).toContain('blank');
      await expectOnFirstScreen(page, 'rejection');
      await page.getByTestId('list-name').fill('Groceries ');
      await page.getByTestId('field-error-name').waitFor({ state: 'detached' });

      // Then the history at version 1 is the empty list
      await page.getByTestId('history-slider').fill('1');
      await page.locator('[data-testid="history-state"][data-version="1"]').waitFor();
      expect(await page.getByTestId('history-item').count()).toBe(0);
      await expectHistoryMadeBy(page, 'alice', 'shoppingList/created');
      await expectFits(page);
      await shot('list');
      expect(errors).toEqual([]);
    } catch (error) {
      await shot('list-failure');
      throw error;
    } finally {
      await context.close();
    }
  });
});
