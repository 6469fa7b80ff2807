/**
 * Pushed events a subscriber folds (docs/decisions/push-events-to-fold.md): the change message
 * carries the events instead of the row when that is the smaller message, the client's fold of
 * them reaches the row the server wrote, and a gap is refused (the client then reads the row).
 * Prints the bytes per push, before (the row) and after (the smaller of row and events).
 */
import { changedRowOf, changeMessage, foldedEventsOf } from '../../lambdas/core/push/push';
import { viewRowAfter } from '../../lambdas/core/projections/collections';
import { type StoredEvent, toAction } from '../../lambdas/core/events/events';
import { currentSchemaVersion } from '../../lambdas/core/events/event-codec';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { shoppingListRowProjection } from '../../lambdas/domain/shopping-list/projections';
import { COLLECTIONS } from '../../lambdas/handlers/deployment';
import { foldPushedEvents } from '../../client/live';
import { aggregateOfType } from '../../client/aggregates';

const ID = 'o-push-events';
const UUID = '0b6a3b1e-5f7c-4d2a-9a61-3c2f0e8d4b7a';
const orders = COLLECTIONS.find((c) => c.collection === 'orders')!;
const order = aggregateOfType('order')!;

/** A stored event as the event table holds it (ids and hash of their real lengths). */
const stored = (version: number, type: string, payload: Record<string, unknown>): StoredEvent => ({
  aggregateId: ID,
  aggregateType: 'order',
  version,
  type,
  payload,
  eventId: UUID,
  occurredAt: '2026-12-06T10:00:00.000Z',
  commandId: UUID,
  commandHash: 'f'.repeat(64),
  correlationId: UUID,
  causationId: UUID,
  actor: 'user-0b6a3b1e',
  schemaVersion: currentSchemaVersion(type),
});

/** The order's log: created, then `lines` lines added (version lines + 1). */
const logOf = (lines: number): StoredEvent[] => [
  stored(1, 'order/created', { customerId: 'customer-1', currency: 'EUR' }),
  ...Array.from({ length: lines }, (_, i) =>
    stored(i + 2, 'order/lineAdded', {
      lineId: `line-${i}`,
      sku: `SKU-${1000 + i}`,
      quantity: 2,
      unitPriceMinor: 1250,
    }),
  ),
];

/** The row the server writes after the log, as the coupled append folds it. */
const rowAfter = (log: readonly StoredEvent[], before?: unknown) =>
  viewRowAfter(orderViewProjection, ID, log.map(toAction), before)!;

/** The push of the log's last event: what the coupled append posts. */
const pushOf = (log: readonly StoredEvent[]) => {
  const before = log.length > 1 ? rowAfter(log.slice(0, -1)).row : undefined;
  const { row, version } = rowAfter(log.slice(-1), before);
  return {
    row,
    rowOnly: changeMessage(changedRowOf(orders.view, ID, version, row, orders.isDeleted)),
    withEvents: changeMessage(
      changedRowOf(orders.view, ID, version, row, orders.isDeleted, log.slice(-1)),
    ),
  };
};

const bytes = (message: string) => new TextEncoder().encode(message).length;

describe('a push that carries the events (changeMessage)', () => {
  test('given an order of 20 lines, when a line is added, then the message carries the one event, not the row, and is smaller', () => {
    const { rowOnly, withEvents } = pushOf(logOf(21));

    const message = JSON.parse(withEvents) as Record<string, unknown>;
    expect(message).toMatchObject({ type: 'order/changed', id: ID, version: 22 });
    expect(message).not.toHaveProperty('order');
    expect(message.events).toEqual([expect.objectContaining({ version: 22 })]);
    expect(bytes(withEvents)).toBeLessThan(bytes(rowOnly));
  });

  test('given a new order, when its row is smaller than its event, then the row is sent as before', () => {
    const { rowOnly, withEvents } = pushOf(logOf(0));
    expect(withEvents).toBe(rowOnly);
    expect(JSON.parse(withEvents)).toHaveProperty('order');
  });

  test('given a deletion, then the events are not sent: the message stays `<name>/deleted`', () => {
    const log = [...logOf(1), stored(3, 'order/deleted', {})];
    const { withEvents } = pushOf(log);
    expect(JSON.parse(withEvents)).toEqual({ type: 'order/deleted', id: ID, version: 3 });
  });

  test('bytes per push, before (the row) and after (the smaller message), by order size', () => {
    const figures = [0, 1, 5, 20, 50].map((lines) => {
      const { rowOnly, withEvents } = pushOf(logOf(lines + 1));
      return { lines: lines + 1, before: bytes(rowOnly), after: bytes(withEvents) };
    });
    // The figure in docs/decisions/push-events-to-fold.md.
    console.log(
      `bytes per push (order of n lines, one line added):\n${figures
        .map((f) => `  n=${f.lines}: row ${f.before} B, now ${f.after} B`)
        .join('\n')}`,
    );
    for (const f of figures) expect(f.after).toBeLessThanOrEqual(f.before);
  });
});

describe('the client folds pushed events (foldPushedEvents)', () => {
  const log = logOf(21);
  const held = { version: 21, view: rowAfter(log.slice(0, 21)).row as never };
  const change = (events: readonly StoredEvent[]) => ({
    id: ID,
    version: events.at(-1)!.version,
    // As the socket delivers them: through JSON.
    events: JSON.parse(JSON.stringify(events)) as unknown[],
  });

  test('given the client holds the version before the events, when it folds them, then it reaches the row the server pushed before', () => {
    const folded = foldPushedEvents(order, held, change(log.slice(21)));
    expect(folded).toEqual({ version: 22, view: pushOf(log).row });
  });

  test('given the client holds nothing, when the events start at version 1, then it folds them from the initial state', () => {
    const folded = foldPushedEvents(order, undefined, change(log.slice(0, 2)));
    expect(folded).toEqual({ version: 2, view: rowAfter(log.slice(0, 2)).row });
  });

  test('given a gap (the client holds an older version), then nothing is folded: the row is read', () => {
    const older = { version: 20, view: rowAfter(log.slice(0, 20)).row as never };
    expect(foldPushedEvents(order, older, change(log.slice(21)))).toBeUndefined();
    expect(foldPushedEvents(order, undefined, change(log.slice(21)))).toBeUndefined();
  });

  test('given events that do not end at the message’s version, or are another aggregate’s, then nothing is folded', () => {
    expect(
      foldPushedEvents(order, held, { ...change(log.slice(21)), version: 23 }),
    ).toBeUndefined();
    const other = { ...log[21]!, aggregateId: 'o-other' };
    expect(foldPushedEvents(order, held, change([other]))).toBeUndefined();
  });

  test('given an event this code cannot decode, then nothing is folded', () => {
    const broken = { ...change(log.slice(21)), events: [{ version: 22, type: 'order/lineAdded' }] };
    expect(foldPushedEvents(order, held, broken)).toBeUndefined();
  });
});

describe('a second domain: a shopping list’s pushed events', () => {
  const LIST = 'l-push-events';
  const lists = COLLECTIONS.find((c) => c.collection === 'shopping-lists')!;
  const list = aggregateOfType('shoppingList')!;
  const listEvent = (version: number, type: string, payload: Record<string, unknown>) => ({
    ...stored(version, type, payload),
    aggregateId: LIST,
    aggregateType: 'shoppingList',
  });
  /** Created, then `items` items added (version items + 1). */
  const log = [
    listEvent(1, 'shoppingList/created', { name: 'Groceries', ownerId: 'user-0b6a3b1e' }),
    ...Array.from({ length: 21 }, (_, i) =>
      listEvent(i + 2, 'shoppingList/itemAdded', { itemId: `item-${i}`, text: `Item ${i}` }),
    ),
  ];
  const rowOf = (events: readonly StoredEvent[], before?: unknown) =>
    viewRowAfter(shoppingListRowProjection, LIST, events.map(toAction), before)!;

  test('given a list of 20 items, when one is added, then the message carries the event and the client’s fold of it is the server’s row', () => {
    const before = rowOf(log.slice(0, -1)).row;
    const { row, version } = rowOf(log.slice(-1), before);
    const rowOnly = changeMessage(changedRowOf(lists.view, LIST, version, row, lists.isDeleted));
    const withEvents = changeMessage(
      changedRowOf(lists.view, LIST, version, row, lists.isDeleted, log.slice(-1)),
    );
    expect(JSON.parse(withEvents)).toMatchObject({
      type: 'shopping-list/changed',
      id: LIST,
      version: 22,
      events: [expect.objectContaining({ type: 'shoppingList/itemAdded' })],
    });
    expect(bytes(withEvents)).toBeLessThan(bytes(rowOnly));

    const delivered = { id: LIST, version: 22, events: JSON.parse(withEvents).events as unknown[] };
    expect(foldPushedEvents(list, { version: 21, view: before as never }, delivered)).toEqual({
      version: 22,
      view: row,
    });
  });
});

describe('the projector’s pushed events (foldedEventsOf, changedRowOf)', () => {
  const log = logOf(3);
  const actions = log.map(toAction);
  const other = toAction({ ...log[1]!, aggregateId: 'o-other' });
  /** The events the change of the row at `version` carries, of what a batch folded into it. */
  const carried = (folded: Parameters<typeof foldedEventsOf>[0], version: number) =>
    changedRowOf(
      orders.view,
      ID,
      version,
      rowAfter(log.slice(0, version)).row,
      orders.isDeleted,
      foldedEventsOf(folded, ID, currentSchemaVersion),
    ).events;

  test('given a batch that folded versions 3 and 4 into the row, then the message may carry both, as the client decodes them', () => {
    const events = carried([actions[2]!, other, actions[3]!], 4);
    expect(events?.map((e) => e.version)).toEqual([3, 4]);
    const held = { version: 2, view: rowAfter(log.slice(0, 2)).row as never };
    const delivered = { id: ID, version: 4, events: JSON.parse(JSON.stringify(events)) };
    expect(foldPushedEvents(order, held, delivered)).toEqual({
      version: 4,
      view: rowAfter(log).row,
    });
  });

  test('given folded events that skip a version or stop short of the row’s, then none are carried: the row is sent', () => {
    expect(carried([actions[1]!, actions[3]!], 4)).toBeUndefined();
    expect(carried(actions.slice(1, 3), 4)).toBeUndefined();
    expect(carried([other], 2)).toBeUndefined();
    expect(carried(undefined, 4)).toBeUndefined();
  });
});
