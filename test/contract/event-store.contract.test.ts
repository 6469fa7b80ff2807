/**
 * One contract, every adapter: the in-memory store and the DynamoDB store (on DynamoDB Local)
 * must behave the same for loads, appends, conflicts and atomicity.
 */
import { DynamoDbEventStore } from '../../lambdas/core/dynamodb-event-store';
import { VersionConflictError } from '../../lambdas/core/errors';
import type { EventStore } from '../../lambdas/core/event-store';
import { MemoryEventStore } from '../../lambdas/core/memory-event-store';
import { createTestTables, type TestTables } from '../support/dynamo';
import { stamp } from '../support/given';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

const adapters: [string, () => EventStore][] = [
  ['memory', () => new MemoryEventStore()],
  ['dynamodb', () => new DynamoDbEventStore(tables.doc, tables.eventTable)],
];

let counter = 0;
const newId = () => `agg-${Date.now()}-${counter++}`;
const events = (id: string, n: number, from = 0) =>
  stamp(
    id,
    Array.from({ length: n }, (_, i) => ({ type: 'thing/happened', payload: { n: from + i + 1 } })),
    from,
  );

describe.each(adapters)('%s event store', (_name, makeStore) => {
  let store: EventStore;
  beforeEach(() => {
    store = makeStore();
  });

  test('an unknown aggregate has no events and version 0', async () => {
    const id = newId();
    expect(await store.load(id)).toEqual([]);
    expect(await store.currentVersion(id)).toBe(0);
  });

  test('one event round-trips unchanged', async () => {
    const id = newId();
    const [event] = stamp(id, [
      {
        type: 'thing/happened',
        payload: { text: 'Zoë ✓', nested: { list: [1, 0, -2], empty: {} }, zero: 0, no: false },
      },
    ]);
    await store.append([event!]);
    expect(await store.load(id)).toEqual([event]);
    expect(await store.currentVersion(id)).toBe(1);
  });

  test('several events append together, in version order', async () => {
    const id = newId();
    await store.append(events(id, 3));
    await store.append(events(id, 2, 3));
    const loaded = await store.load(id);
    expect(loaded.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(await store.currentVersion(id)).toBe(5);
  });

  test('load takes a range and a limit', async () => {
    const id = newId();
    await store.append(events(id, 6));
    expect((await store.load(id, { afterVersion: 2 })).map((e) => e.version)).toEqual([3, 4, 5, 6]);
    expect((await store.load(id, { toVersion: 2 })).map((e) => e.version)).toEqual([1, 2]);
    expect((await store.load(id, { afterVersion: 1, toVersion: 4 })).map((e) => e.version)).toEqual(
      [2, 3, 4],
    );
    expect((await store.load(id, { afterVersion: 1, limit: 2 })).map((e) => e.version)).toEqual([
      2, 3,
    ]);
  });

  test('appending at a taken version is a VersionConflictError with expected and actual', async () => {
    const id = newId();
    await store.append(events(id, 2));
    const stale = events(id, 1, 1); // version 2 again
    await expect(store.append(stale)).rejects.toBeInstanceOf(VersionConflictError);
    await expect(store.append(stale)).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      status: 409,
      details: { aggregateId: id, expectedVersion: 1, actualVersion: 2 },
    });
    expect((await store.load(id)).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('a multi-event append is all or nothing', async () => {
    const id = newId();
    await store.append(events(id, 3));
    // versions 3..5: version 3 exists, so neither 4 nor 5 may be written
    await expect(store.append(events(id, 3, 2))).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.currentVersion(id)).toBe(3);
  });

  test.each([1, 2])(
    'an append that skips a version is refused (%i event(s) at version 5, aggregate at 3)',
    async (count) => {
      const id = newId();
      await store.append(events(id, 3));
      const skipping = events(id, count, 4); // versions 5.. while the next is 4
      await expect(store.append(skipping)).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
        details: { aggregateId: id, expectedVersion: 4, actualVersion: 3 },
      });
      expect((await store.load(id)).map((e) => e.version)).toEqual([1, 2, 3]);
    },
  );

  test('a first append that does not start at version 1 is refused', async () => {
    const id = newId();
    await expect(store.append(events(id, 1, 1))).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.load(id)).toEqual([]);
  });

  test('concurrent appends at the same version: exactly one wins', async () => {
    const id = newId();
    await store.append(events(id, 1));
    const attempts = Array.from({ length: 10 }, (_, i) =>
      store.append(stamp(id, [{ type: 'thing/happened', payload: { writer: i } }], 1)),
    );
    const results = await Promise.allSettled(attempts);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    }
    expect(await store.currentVersion(id)).toBe(2);
  });

  test('an append must be consecutive versions of one aggregate', async () => {
    const id = newId();
    const [a, b] = events(id, 2);
    await expect(store.append([a!, { ...b!, version: 5 }])).rejects.toThrow(/consecutive/);
    await expect(store.append([a!, { ...b!, aggregateId: 'other' }])).rejects.toThrow(
      /consecutive/,
    );
    expect(await store.load(id)).toEqual([]);
  });

  test('appending nothing is a no-op', async () => {
    await expect(store.append([])).resolves.toBeUndefined();
  });
});
