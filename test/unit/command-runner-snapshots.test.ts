/**
 * The runner with snapshots and idempotency markers, on the in-memory stores (the same contract
 * as DynamoDB's: test/contract). A counter aggregate: nothing here knows about orders.
 */
import { z } from 'zod';
import type { AggregateDefinition } from '../../lambdas/core/command/aggregate';
import {
  type CommandContext,
  createCommandRunner,
  type RunnerLog,
} from '../../lambdas/core/command/command-runner';
import type { LoadOptions } from '../../lambdas/core/events/event-store';
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import {
  MemorySnapshotStore,
  type Snapshot,
  snapshotKeyOf,
} from '../../lambdas/core/command/snapshots';
import { OPEN_RULES, TEST_ACTOR } from '../support/permissions';

type Cmd = { type: 'counter/increment'; payload: { by: number } };
type Evt = { type: 'counter/incremented'; payload: { by: number } };

const counter: AggregateDefinition<{ total: number }, Cmd, Evt> = {
  type: 'counter',
  initialState: { total: 0 },
  reducer: (state = { total: 0 }, event) =>
    event.type === 'counter/incremented' ? { total: state.total + event.payload.by } : state,
  decide: (_state, command) => [{ type: 'counter/incremented', payload: command.payload }],
  commandSchemas: { 'counter/increment': z.strictObject({ by: z.number().int() }) },
  ...OPEN_RULES,
};

let ids = 0;
const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
const log: RunnerLog = {
  info: (message, extra) => lines.push({ level: 'info', message, extra }),
  warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
};
const context: CommandContext = {
  correlationId: 'c',
  actor: TEST_ACTOR,
  now: () => '2026-01-01T00:00:00.000Z',
  newId: () => `id-${ids++}`,
  log,
};
const increment = (by: number, commandId = `cmd-${ids++}`) => ({
  type: 'counter/increment',
  aggregateId: 'k-1',
  payload: { by },
  commandId,
});

/** A memory event store that records every load's range. */
class WatchedStore extends MemoryEventStore {
  readonly loads: LoadOptions[] = [];
  override load(id: string, options: LoadOptions = {}) {
    this.loads.push(options);
    return super.load(id, options);
  }
}

let store: WatchedStore;
let snapshots: MemorySnapshotStore;
const runner = (
  aggregate = counter,
  snapshotStore = snapshots as MemorySnapshotStore,
  headsKept?: number,
) =>
  createCommandRunner({
    store,
    aggregates: [aggregate],
    snapshots: { store: snapshotStore, every: 5 },
    ...(headsKept !== undefined && { headsKept }),
  });
beforeEach(() => {
  store = new WatchedStore();
  snapshots = new MemorySnapshotStore();
  lines.length = 0;
});

/** Records the snapshot and marker reads (`marker <commandId>`) the stores answer. */
const watchReads = () => {
  const reads: string[] = [];
  const load = snapshots.load.bind(snapshots);
  snapshots.load = (id, k) => {
    reads.push('snapshot');
    return load(id, k);
  };
  const findCommand = store.findCommand.bind(store);
  store.findCommand = (id, c) => {
    reads.push(`marker ${c}`);
    return findCommand(id, c);
  };
  return reads;
};

const key = snapshotKeyOf(counter);
const saved = () => snapshots.load('k-1', key);

test('a snapshot is taken once `every` events lie past the last one, and read next time', async () => {
  const run = runner();
  for (let i = 1; i <= 4; i++) await run(increment(1), context);
  expect(await saved()).toBeUndefined();
  await run(increment(1), context);
  expect(await saved()).toMatchObject({ version: 5, state: { total: 5 } });
  for (let i = 6; i <= 9; i++) await run(increment(1), context);
  expect((await saved())?.version).toBe(5);
  store.loads.length = 0;
  // Another instance, which never read the aggregate:
  const result = await runner()(increment(10), context);
  // one read of the newest events beside the snapshot's; the fold starts at the snapshot
  expect(store.loads).toEqual([{ newest: 5 }]);
  expect(result).toMatchObject({ version: 10, state: { total: 19 } });
  expect(await saved()).toMatchObject({ version: 10, state: { total: 19 } });
});

test('a resent commandId is a replay after snapshots, found by its marker, nothing appended', async () => {
  const run = runner();
  const fifth = [];
  for (let i = 1; i <= 12; i++) {
    const r = await run(increment(i, `c-${i}`), context);
    if (i === 5) fifth.push(r);
  }
  expect((await saved())?.version).toBe(10);
  const again = await run(increment(5, 'c-5'), context);
  expect(again).toMatchObject({
    replayed: true,
    version: 5,
    events: fifth[0]!.events,
    stateVersion: 12,
  });
  expect(await store.currentVersion('k-1')).toBe(12);
  await expect(run(increment(6, 'c-5'), context)).rejects.toMatchObject({
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
});

test('an aggregate shorter than the newest read: one load, no snapshot or marker read', async () => {
  const reads = watchReads();
  // Runners that keep no heads: each command reads first.
  const run = runner(counter, snapshots, 0);
  for (let i = 1; i <= 4; i++) await run(increment(1), context);
  expect(reads).toEqual([]);
  expect(store.loads).toEqual([{ newest: 5 }, { newest: 5 }, { newest: 5 }, { newest: 5 }]);
});

test('a long aggregate this runner never read: the newest events, then the snapshot, then the rest beside the marker', async () => {
  const run = runner();
  for (let i = 1; i <= 8; i++) await run(increment(1, `c-${i}`), context); // snapshot at 5
  store.loads.length = 0;
  const reads: string[] = [];
  const findCommand = store.findCommand.bind(store);
  store.findCommand = (id, c) => {
    reads.push(`marker ${c}`);
    return findCommand(id, c);
  };
  const fresh = runner(); // another function instance: it never saw k-1
  const replay = await fresh(increment(1, 'c-3'), context);
  // 4..8 reach the snapshot at 5; then the replayed command's own event, named by its marker
  expect(store.loads).toEqual([{ newest: 5 }, { afterVersion: 2, toVersion: 3 }]);
  expect(reads).toEqual(['marker c-3']);
  expect(replay).toMatchObject({ replayed: true, version: 3 });
});

test('the markers of the commands a snapshot covers are recorded before it is stored', async () => {
  const order: string[] = [];
  const recordCommands = store.recordCommands.bind(store);
  store.recordCommands = async (records) => {
    order.push(`markers ${records.map((r) => r.commandId).join(',')}`);
    return recordCommands(records);
  };
  const watched = new MemorySnapshotStore();
  const save = watched.save.bind(watched);
  watched.save = (snapshot) => {
    order.push(`snapshot ${snapshot.version}`);
    return save(snapshot);
  };
  const run = runner(counter, watched);
  for (let i = 1; i <= 10; i++) await run(increment(1, `c-${i}`), context);
  expect(order).toEqual([
    'markers c-1,c-2,c-3,c-4,c-5',
    'snapshot 5',
    'markers c-6,c-7,c-8,c-9,c-10',
    'snapshot 10',
  ]);
  expect(await store.findCommand('k-1', 'c-7')).toMatchObject({ firstVersion: 7, lastVersion: 7 });
});

test('no snapshot is stored when its markers could not be written', async () => {
  store.recordCommands = () => Promise.reject(new Error('throttled'));
  const run = runner();
  for (let i = 1; i <= 5; i++) await run(increment(1), context);
  expect(await store.currentVersion('k-1')).toBe(5);
  expect(await saved()).toBeUndefined();
  expect(lines).toContainEqual(
    expect.objectContaining({ level: 'warn', message: expect.stringMatching(/write failed/) }),
  );
});

test('a reducer change invalidates the snapshot: the full history is read, the answer is right', async () => {
  const run = runner();
  for (let i = 1; i <= 6; i++) await run(increment(1), context);
  expect((await saved())?.version).toBe(5);
  // Same type, a reducer that counts double: another key, so the snapshot is not even read.
  const doubled: typeof counter = {
    ...counter,
    reducer: (state = { total: 0 }, event) =>
      event.type === 'counter/incremented' ? { total: state.total + 2 * event.payload.by } : state,
  };
  expect(snapshotKeyOf(doubled)).not.toBe(key);
  const bumped: typeof counter = { ...counter, snapshotVersion: 2 };
  expect(snapshotKeyOf(bumped)).not.toBe(key);
  store.loads.length = 0;
  const result = await runner(doubled)(increment(1), context);
  // the newest 5 beside the (absent) snapshot, then the events before them
  expect(store.loads).toEqual([{ newest: 5 }, { afterVersion: 0, toVersion: 1 }]);
  expect(result.state).toEqual({ total: 14 });
  // and the new reducer's own snapshot is written, since 7 events lay past none
  expect(await snapshots.load('k-1', snapshotKeyOf(doubled))).toMatchObject({
    version: 7,
    state: { total: 14 },
  });
});

test('a corrupt snapshot is logged and ignored: full history, right answer', async () => {
  const run = runner();
  for (let i = 1; i <= 5; i++) await run(increment(1), context);
  const item = snapshots.items.get(`k-1\n${key}`)!;
  snapshots.items.set(`k-1\n${key}`, { ...item, state: '{"total":1000}' });
  store.loads.length = 0;
  const result = await run(increment(1), context);
  expect(store.loads).toEqual([{ newest: 5 }]); // versions 1..5: the whole history
  expect(result.state).toEqual({ total: 6 });
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 'warn',
      message: 'Snapshot ignored: reading the full history',
    }),
  );
});

test('a failing snapshot write never fails the command; a slow one never holds it past its budget', async () => {
  const failing = new MemorySnapshotStore();
  failing.save = () => Promise.reject(new Error('disk on fire'));
  const run = runner(counter, failing);
  for (let i = 1; i <= 5; i++) await run(increment(1), context);
  expect(await store.currentVersion('k-1')).toBe(5);
  expect(lines).toContainEqual(
    expect.objectContaining({ level: 'warn', message: expect.stringMatching(/write failed/) }),
  );

  let release: () => void = () => undefined;
  const stuck = new MemorySnapshotStore();
  stuck.save = (_s: Snapshot) => new Promise<boolean>((resolve) => (release = () => resolve(true)));
  const slow = createCommandRunner({
    store,
    aggregates: [counter],
    snapshots: { store: stuck, every: 5, writeBudgetMs: 10 },
  });
  for (let i = 6; i <= 10; i++) await slow(increment(1), context);
  // answered although the write never finished
  expect(await store.currentVersion('k-1')).toBe(10);
  expect(lines).toContainEqual(
    expect.objectContaining({ message: expect.stringMatching(/budget/) }),
  );
  release();
});

test('two runs of one command racing: one append, both answers the same', async () => {
  const run = runner();
  for (let i = 1; i <= 4; i++) await run(increment(1), context);
  const [a, b] = await Promise.all([
    run(increment(3, 'twin'), context),
    run(increment(3, 'twin'), context),
  ]);
  expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
  expect(a.version).toBe(b.version);
  expect(await store.currentVersion('k-1')).toBe(5);
});

describe('the heads a runner keeps (the aggregate as it last left it)', () => {
  test('given a runner that wrote version 3, when it runs the next command, then it reads only the events after 3', async () => {
    const run = runner();
    for (let i = 1; i <= 3; i++) await run(increment(1), context);
    const reads = watchReads();
    store.loads.length = 0;
    expect(await run(increment(1), context)).toMatchObject({ version: 4, state: { total: 4 } });
    expect(store.loads).toEqual([{ afterVersion: 3 }]);
    expect(reads).toEqual([]);
  });

  test('given another writer appended since, when the runner runs a command, then it decides on that event too', async () => {
    const run = runner();
    for (let i = 1; i <= 2; i++) await run(increment(1), context);
    await runner()(increment(10), context); // another function instance
    expect(await run(increment(1), context)).toMatchObject({ version: 4, state: { total: 13 } });
  });

  test('given a head, when a command of it is resent, then it is a replay with no read but the events since', async () => {
    const run = runner();
    const first = await run(increment(2, 'again'), context);
    await run(increment(1), context);
    store.loads.length = 0;
    const replay = await run(increment(2, 'again'), context);
    expect(replay).toMatchObject({ replayed: true, version: 1, events: first.events });
    expect(store.loads).toEqual([{ afterVersion: 2 }]);
    expect(await store.currentVersion('k-1')).toBe(2);
  });

  test('given a head past a snapshot, when a command the snapshot covers is resent, then its marker is read beside the events since and it is a replay', async () => {
    const run = runner();
    for (let i = 1; i <= 7; i++) await run(increment(1, `c-${i}`), context); // snapshot at 5
    const reads = watchReads();
    store.loads.length = 0;
    const replay = await run(increment(1, 'c-2'), context);
    expect(replay).toMatchObject({ replayed: true, version: 2 });
    expect(reads).toEqual(['marker c-2']);
    expect(store.loads[0]).toEqual({ afterVersion: 7 });
    expect(await store.currentVersion('k-1')).toBe(7);
  });

  test('given a snapshot falls due, when the next command runs, then it reads first and starts from the snapshot', async () => {
    const run = runner();
    for (let i = 1; i <= 5; i++) await run(increment(1), context); // snapshot at 5
    store.loads.length = 0;
    expect(await run(increment(1), context)).toMatchObject({ version: 6, state: { total: 6 } });
    expect(store.loads).toEqual([{ newest: 5 }]);
    store.loads.length = 0;
    await run(increment(1), context);
    expect(store.loads).toEqual([{ afterVersion: 6 }]);
  });

  test('given a long history whose first snapshot is still being written, when commands run meanwhile, then each reads only the events after its head, and once written the next reads from the snapshot', async () => {
    const plain = createCommandRunner({ store, aggregates: [counter] }); // no snapshots yet
    for (let i = 1; i <= 12; i++) await plain(increment(1), context);
    let release: () => void = () => undefined;
    const slowSnapshots = new MemorySnapshotStore();
    const save = slowSnapshots.save.bind(slowSnapshots);
    let saves = 0;
    slowSnapshots.save = (snapshot: Snapshot) => {
      saves++;
      return new Promise<boolean>((resolve) => (release = () => resolve(save(snapshot))));
    };
    const run = createCommandRunner({
      store,
      aggregates: [counter],
      snapshots: { store: slowSnapshots, every: 5, writeBudgetMs: 10 },
    });
    await run(increment(1), context); // reads all 12, appends 13, starts the snapshot
    store.loads.length = 0;
    expect(await run(increment(1), context)).toMatchObject({ version: 14, state: { total: 14 } });
    expect(await run(increment(1), context)).toMatchObject({ version: 15, state: { total: 15 } });
    expect(store.loads).toEqual([{ afterVersion: 13 }, { afterVersion: 14 }]);
    expect(saves).toBe(1);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    store.loads.length = 0;
    expect(await run(increment(1), context)).toMatchObject({ version: 16, state: { total: 16 } });
    expect(store.loads).toEqual([{ newest: 5 }]);
    expect(saves).toBe(1);
  });

  test('given an append whose answer was lost after it landed, when the next command runs, then it reads that event and appends after it', async () => {
    const run = runner();
    await run(increment(1), context);
    const append = store.append.bind(store);
    store.append = async (events) => {
      await append(events);
      store.append = append;
      throw new Error('socket hang up'); // written, but the answer never came
    };
    await expect(run(increment(1), context)).rejects.toThrow('socket hang up');
    expect(await run(increment(1), context)).toMatchObject({ version: 3, state: { total: 3 } });
  });

  test('given a head of one type, when a command of another type names the same id, then it is refused as before', async () => {
    // Another aggregate type whose command names the counter's id.
    const tally = {
      ...counter,
      type: 'tally',
      commandSchemas: { 'tally/increment': counter.commandSchemas['counter/increment']! },
    } as unknown as typeof counter;
    const both = createCommandRunner({
      store,
      aggregates: [counter, tally],
      snapshots: { store: snapshots, every: 5 },
    });
    await both(increment(1), context);
    await expect(both({ ...increment(1), type: 'tally/increment' }, context)).rejects.toMatchObject(
      { code: 'AGGREGATE_TYPE_MISMATCH' },
    );
  });
});
