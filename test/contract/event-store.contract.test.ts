/**
 * One contract, every adapter: the in-memory store and the DynamoDB store (on DynamoDB Local)
 * must behave the same for loads, appends, conflicts, atomicity and command markers; and the
 * two snapshot stores the same for reads, writes that never move back, and damaged items.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { VersionConflictError } from '../../lambdas/core/shared/errors';
import { commandRecordsOf, type EventStore } from '../../lambdas/core/events/event-store';
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import {
  CorruptSnapshotError,
  encodeSnapshot,
  MemorySnapshotStore,
  type SnapshotStore,
} from '../../lambdas/core/command/snapshots';
import { createTestTables, type TestTables } from '../support/dynamo';
import { stamp } from '../../lambdas/core/given';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

const adapters: [string, () => EventStore][] = [
  ['memory', () => new MemoryEventStore()],
  [
    'dynamodb',
    () =>
      new DynamoDbEventStore(tables.doc, tables.eventTable, {
        commandsTable: tables.commandsTable,
      }),
  ],
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

  test('load takes the newest events, still in version order', async () => {
    const id = newId();
    await store.append(events(id, 6));
    expect((await store.load(id, { newest: 4 })).map((e) => e.version)).toEqual([3, 4, 5, 6]);
    expect((await store.load(id, { newest: 10 })).map((e) => e.version)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect((await store.load(id, { afterVersion: 4, newest: 4 })).map((e) => e.version)).toEqual([
      5, 6,
    ]);
    expect(await store.load(newId(), { newest: 4 })).toEqual([]);
  });

  test('an append records no marker: markers are recorded on their own', async () => {
    const id = newId();
    const batch = events(id, 3).map((e) => ({ ...e, commandId: 'batch', commandHash: 'h' }));
    await store.append(batch);
    expect(await store.findCommand!(id, 'batch')).toBeUndefined();
    await store.recordCommands!(commandRecordsOf(batch));
    expect(await store.findCommand!(id, 'batch')).toEqual({
      aggregateId: id,
      commandId: 'batch',
      commandHash: 'h',
      firstVersion: 1,
      lastVersion: 3,
    });
    // recording again is harmless; scoped to the aggregate
    await store.recordCommands!(commandRecordsOf(batch));
    expect(await store.findCommand!(id, 'batch')).toMatchObject({ lastVersion: 3 });
    expect(await store.findCommand!(id, 'never-sent')).toBeUndefined();
    expect(await store.findCommand!(newId(), 'batch')).toBeUndefined();
  });

  test('many markers are recorded in one call (more than one batch)', async () => {
    const id = newId();
    const many = events(id, 60);
    await store.append(many);
    await store.recordCommands!(commandRecordsOf(many));
    expect(await store.findCommand!(id, 'command-1')).toMatchObject({ firstVersion: 1 });
    expect(await store.findCommand!(id, 'command-60')).toMatchObject({ lastVersion: 60 });
  });
});

describe('the DynamoDB event store: the write shape of an append', () => {
  /** The store over a client that notes the name of each command it sends. */
  const counted = () => {
    const sent: string[] = [];
    const doc = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return tables.doc.send(command as never);
      },
    } as unknown as typeof tables.doc;
    return { sent, store: new DynamoDbEventStore(doc, tables.eventTable) };
  };

  test('a store that never read the aggregate still refuses a skipping append', async () => {
    const id = newId();
    const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
    await store.append(events(id, 3));
    const stranger = new DynamoDbEventStore(tables.doc, tables.eventTable);
    await expect(stranger.append(events(id, 1, 4))).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { expectedVersion: 4, actualVersion: 3 },
    });
    await stranger.append(events(id, 1, 3)); // version 4, the next one: accepted
    expect(await store.currentVersion(id)).toBe(4);
  });

  test('after reading the aggregate, a single event is one PutItem', async () => {
    const id = newId();
    const { sent, store } = counted();
    await store.append(events(id, 2));
    await store.load(id);
    sent.length = 0;
    await store.append(events(id, 1, 2));
    expect(sent).toEqual(['PutCommand']);
  });

  test('an aggregate it has not read: a transaction that checks version - 1', async () => {
    const id = newId();
    await counted().store.append(events(id, 2));
    const { sent, store } = counted();
    await store.append(events(id, 1, 2));
    expect(sent).toEqual(['TransactWriteCommand']);
  });

  test('its own append counts as read: the next single event is one PutItem', async () => {
    const id = newId();
    const { sent, store } = counted();
    await store.append(events(id, 1));
    await store.append(events(id, 1, 1));
    expect(sent).toEqual(['PutCommand', 'PutCommand']);
  });
});

/** Snapshot adapters, and a way to plant a damaged item in each. */
const snapshotAdapters: [
  string,
  () => { store: SnapshotStore; plant: (item: Record<string, unknown>) => Promise<void> },
][] = [
  [
    'memory',
    () => {
      const store = new MemorySnapshotStore();
      return {
        store,
        plant: async (item) => {
          store.items.set(`${String(item.aggregateId)}\n${String(item.snapshotKey)}`, item);
        },
      };
    },
  ],
  [
    'dynamodb',
    () => ({
      store: new DynamoDbSnapshotStore(tables.doc, tables.snapshotsTable),
      plant: async (item) => {
        await tables.doc.send(new PutCommand({ TableName: tables.snapshotsTable, Item: item }));
      },
    }),
  ],
];

describe.each(snapshotAdapters)('%s snapshot store', (_name, make) => {
  let store: SnapshotStore;
  let plant: (item: Record<string, unknown>) => Promise<void>;
  beforeEach(() => {
    ({ store, plant } = make());
  });
  const KEY = 'thing@v1#abc';
  const snapshot = (aggregateId: string, version: number, state: unknown = { n: version }) => ({
    aggregateId,
    snapshotKey: KEY,
    version,
    state,
  });

  test('no snapshot: undefined', async () => {
    expect(await store.load(newId(), KEY)).toBeUndefined();
  });

  test('a saved snapshot round-trips, under its key only', async () => {
    const id = newId();
    const state = { text: 'Zoë ✓', list: [1, 0, -2], nested: { empty: {} }, none: null };
    expect(await store.save(snapshot(id, 7, state))).toBe(true);
    expect(await store.load(id, KEY)).toEqual(snapshot(id, 7, state));
    expect(await store.load(id, 'thing@v2#abc')).toBeUndefined();
  });

  test('a snapshot never moves back: a lower or equal version is not written', async () => {
    const id = newId();
    await store.save(snapshot(id, 200));
    expect(await store.save(snapshot(id, 100))).toBe(false);
    expect(await store.save(snapshot(id, 200, { other: true }))).toBe(false);
    expect(await store.load(id, KEY)).toEqual(snapshot(id, 200));
    expect(await store.save(snapshot(id, 300))).toBe(true);
    expect((await store.load(id, KEY))?.version).toBe(300);
  });

  test('racing writers: the highest version stays', async () => {
    const id = newId();
    const versions = [500, 100, 400, 300, 200];
    await Promise.all(versions.map((v) => store.save(snapshot(id, v))));
    expect((await store.load(id, KEY))?.version).toBe(500);
  });

  test.each([
    ['state edited (hash mismatch)', { state: '{"n":8}' }],
    [
      'state not JSON',
      (good: Record<string, unknown>) => ({ state: '{oops', stateHash: good.stateHash }),
    ],
    ['version missing', { version: undefined }],
    ['version not a number', { version: 'seven' }],
  ])('a damaged snapshot (%s) is a CorruptSnapshotError', async (_case, change) => {
    const id = newId();
    const good = { ...encodeSnapshot(snapshot(id, 7), '2026-01-01T00:00:00.000Z') };
    const patch = typeof change === 'function' ? change(good) : change;
    const item = Object.fromEntries(
      Object.entries({ ...good, ...patch }).filter(([, v]) => v !== undefined),
    );
    await plant(item);
    await expect(store.load(id, KEY)).rejects.toBeInstanceOf(CorruptSnapshotError);
  });
});
