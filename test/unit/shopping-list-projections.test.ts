/**
 * The shopping-list read models: the list row is the aggregate's state; the owner row is the
 * same whatever order the lists' events interleave in (the projector guarantees order per list
 * only).
 */
import fc from 'fast-check';
import { type EventAction, toAction } from '../../lambdas/core/events/events';
import {
  advanceSource,
  type AnyRowProjection,
  foldRows,
} from '../../lambdas/core/projections/row-projection';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/command/aggregate';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';
import {
  type OwnerLists,
  ownerListsProjection,
  shoppingListRowProjection,
} from '../../lambdas/domain/shopping-list/projections';
import { stamp } from '../../lambdas/core/given';

/** The aggregate's state after `events`, as the command path folds it. */
const stateOf = (events: readonly EventAction[]) =>
  foldEvents(shoppingListAggregate as AnyAggregate, events);

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;

/** One list's log, its events `second` apart from `start`. */
const log = (listId: string, start: number, events: { type: string; payload: unknown }[]) =>
  stamp(listId, events).map((e, i) => toAction({ ...e, occurredAt: at(start + i) }));

const created = (name: string, ownerId: string) => ({
  type: 'shoppingList/created',
  payload: { name, ownerId },
});
const added = (itemId: string) => ({
  type: 'shoppingList/itemAdded',
  payload: { itemId, text: itemId },
});
const toggled = (itemId: string, checked: boolean) => ({
  type: 'shoppingList/itemToggled',
  payload: { itemId, checked },
});
const removed = (itemId: string) => ({ type: 'shoppingList/itemRemoved', payload: { itemId } });
const renamed = (name: string) => ({ type: 'shoppingList/renamed', payload: { name } });
const deleted = { type: 'shoppingList/deleted', payload: {} };

const logs: EventAction[][] = [
  log('list-a', 0, [
    created('Groceries', 'u-1'),
    added('milk'),
    added('eggs'),
    added('tea'),
    toggled('eggs', true),
    removed('milk'),
    renamed('Weekly'),
  ]),
  log('list-b', 3, [created('Hardware', 'u-1'), added('nails'), added('glue'), deleted]),
  log('list-c', 5, [created('Party', 'u-1'), added('cake'), toggled('cake', true), added('cups')]),
  log('list-d', 1, [created('Other owner', 'u-2'), added('x'), toggled('x', true)]),
];

/** Applies the events one at a time as the projector would: state per list, rows per key. */
const project = (projection: AnyRowProjection, events: readonly EventAction[]) => {
  const states = new Map<string, unknown>();
  const rows = new Map<string, unknown>();
  for (const event of events) {
    const id = event.meta.aggregateId;
    const before = states.has(id) ? states.get(id) : projection.source.initialState;
    if (projection.eventTypes.includes(event.type)) {
      const key = projection.rowKey(event, before);
      if (key !== undefined) rows.set(key, projection.reducer(rows.get(key), event, before));
    }
    states.set(id, advanceSource(projection, before, event));
  }
  return rows;
};

/** Every interleaving of the logs that keeps each log's own order. */
const interleaving = fc
  .array(fc.nat(logs.length - 1), { minLength: 0, maxLength: 40 })
  .map((picks) => {
    const queues = logs.map((l) => [...l]);
    const merged: EventAction[] = [];
    for (const pick of picks) {
      const queue = queues[pick]!;
      if (queue.length > 0) merged.push(queue.shift()!);
    }
    return [...merged, ...queues.flat()];
  });

describe('owner-lists', () => {
  const expected: OwnerLists = {
    ownerId: 'u-1',
    activeLists: 2,
    // list-a: eggs (checked), tea; list-c: cake (checked), cups. list-b is deleted.
    openItems: 2,
    lists: {
      'list-a': { name: 'Weekly', itemCount: 2, checkedCount: 1 },
      'list-c': { name: 'Party', itemCount: 2, checkedCount: 1 },
    },
    lastActivityAt: at(8),
  };

  test('one row per owner: active lists, open items and each active list', () => {
    const rows = foldRows(ownerListsProjection, logs);
    expect([...rows.keys()].sort()).toEqual(['u-1', 'u-2']);
    expect(rows.get('u-1')).toEqual(expected);
    expect(rows.get('u-2')).toEqual({
      ownerId: 'u-2',
      activeLists: 1,
      openItems: 0,
      lists: { 'list-d': { name: 'Other owner', itemCount: 1, checkedCount: 1 } },
      lastActivityAt: at(3),
    });
  });

  test('the rows are the same whatever order the lists interleave in', () => {
    const reference = foldRows(ownerListsProjection, logs);
    fc.assert(
      fc.property(interleaving, (events) => {
        expect(project(ownerListsProjection, events)).toEqual(reference);
      }),
      { numRuns: 200 },
    );
  });

  test('after every prefix, the counts agree with the lists it names', () => {
    const all = logs.flat();
    for (let n = 1; n <= all.length; n++) {
      for (const row of project(ownerListsProjection, all.slice(0, n)).values()) {
        const r = row as OwnerLists;
        const lists = Object.values(r.lists);
        expect(r.activeLists).toBe(lists.length);
        expect(r.openItems).toBe(lists.reduce((s, l) => s + l.itemCount - l.checkedCount, 0));
      }
    }
  });

  test('a deleted list leaves its owner row; its open items no longer count', () => {
    const b = logs[1]!;
    const rows = foldRows(ownerListsProjection, [b.slice(0, -1)]);
    expect(rows.get('u-1')).toMatchObject({ activeLists: 1, openItems: 2 });
    expect(foldRows(ownerListsProjection, [b]).get('u-1')).toMatchObject({
      activeLists: 0,
      openItems: 0,
      lists: {},
    });
  });
});

describe('shopping-list', () => {
  test('one row per list, keyed by its id, equal to the aggregate state', () => {
    const rows = foldRows(shoppingListRowProjection, logs);
    expect([...rows.keys()].sort()).toEqual(['list-a', 'list-b', 'list-c', 'list-d']);
    for (const l of logs) {
      expect(rows.get(l[0]!.meta.aggregateId)).toEqual(stateOf(l));
    }
  });

  test('the row equals the state after every event, and a deleted list stays as deleted', () => {
    const b = logs[1]!;
    for (let n = 1; n <= b.length; n++) {
      expect(foldRows(shoppingListRowProjection, [b.slice(0, n)]).get('list-b')).toEqual(
        stateOf(b.slice(0, n)),
      );
    }
    expect(foldRows(shoppingListRowProjection, [b]).get('list-b')).toMatchObject({
      status: 'deleted',
      version: 4,
    });
  });

  test('the rows do not depend on how the lists interleave', () => {
    const reference = foldRows(shoppingListRowProjection, logs);
    fc.assert(
      fc.property(interleaving, (events) => {
        expect(project(shoppingListRowProjection, events)).toEqual(reference);
      }),
      { numRuns: 50 },
    );
  });
});

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

test.each([
  [shoppingListRowProjection.name, shoppingListRowProjection as AnyRowProjection],
  [ownerListsProjection.name, ownerListsProjection as AnyRowProjection],
])('%s changes none of its inputs (the projector shares source states)', (_name, projection) => {
  const frozenLogs = logs.map((l) => l.map((e) => deepFreeze(structuredClone(e))));
  const rows = new Map<string, unknown>();
  for (const events of frozenLogs) {
    let state = deepFreeze(projection.source.initialState as unknown);
    for (const event of events) {
      const key = projection.rowKey(event, state);
      if (key !== undefined)
        rows.set(key, deepFreeze(projection.reducer(rows.get(key), event, state)));
      state = deepFreeze(advanceSource(projection, state, event));
    }
  }
  expect(rows).toEqual(foldRows(projection, logs));
});

test('events before creation and events of other aggregates feed no row', () => {
  const orphan = toAction(stamp('list-z', [added('x')])[0]!);
  expect(shoppingListRowProjection.rowKey(orphan, null)).toBeUndefined();
  expect(ownerListsProjection.rowKey(orphan, null)).toBeUndefined();
  expect(ownerListsProjection.eventTypes).not.toContain('order/created');
  expect(shoppingListRowProjection.eventTypes.every((t) => t.startsWith('shoppingList/'))).toBe(
    true,
  );
});
