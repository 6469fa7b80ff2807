/**
 * The rebuild's row writer (lambdas/core/repair/rebuild.ts, createRowWriter): segments sharing
 * it write a row they both touch once, and every write stays exactly-once (per-aggregate
 * checkpoints and a write conditional on the row's revision), whatever it guessed of the row.
 */
import type { EventAction } from '../../lambdas/core/events/events';
import type { Pending } from '../../lambdas/core/projections/row-projector';
import {
  type AnyRowProjection,
  type ProjectionRowStore,
  StaleRowError,
  type StoredRow,
} from '../../lambdas/core/projections/row-projection';
import { createRowWriter } from '../../lambdas/core/repair/rebuild';
import { customerSummaryProjection } from '../../lambdas/domain/order/projections';

/** Counts the events applied to a row; refuses the events of aggregates named `bad-*`. */
const counting: AnyRowProjection = {
  ...customerSummaryProjection,
  name: 'counting',
  version: 1,
  lists: [],
  reducer: (row: { events: number } | undefined, event: EventAction) => {
    if (event.meta.aggregateId.startsWith('bad')) throw new Error('a bug in the reducer');
    return { events: (row?.events ?? 0) + 1 };
  },
};
const target = { projection: counting };

const pending = (aggregateId: string, ...versions: number[]): Pending[] =>
  versions.map((version) => ({
    aggregateId,
    version,
    action: { type: 'order/created', payload: {}, meta: { aggregateId, version } } as never,
    before: undefined,
  }));

/** Rows in memory, written only if still at the revision read (as DynamoDbProjectionRows). */
const memoryRows = () => {
  const items = new Map<string, StoredRow>();
  const saves: string[] = [];
  let gate: Promise<void> | undefined;
  const store: ProjectionRowStore & { getMany(keys: readonly string[]): Promise<StoredRow[]> } = {
    get: async (key) => items.get(key),
    getMany: async (keys) => keys.flatMap((key) => items.get(key) ?? []),
    save: async (row, previousRev) => {
      await gate;
      if ((items.get(row.key)?.rev ?? 0) !== previousRev) throw new StaleRowError(row.key);
      saves.push(row.key);
      items.set(row.key, row);
    },
  };
  return {
    store,
    items,
    saves,
    /** Holds every write until the returned function is called. */
    hold: () => {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
  };
};

test('given two segments sharing a writer, when both ask for a row whose write has not started, then one write carries both', async () => {
  const rows = memoryRows();
  const writer = createRowWriter(rows.store, target, { concurrency: 1 });
  const release = rows.hold();
  // Segment A: rows x then y; x's write is held, y waits its turn.
  const a = writer.write(
    new Map([
      ['counting@v1#x', pending('a', 1, 2)],
      ['counting@v1#y', pending('a2', 1)],
    ]),
  );
  // Segment B asks for both meanwhile.
  const b = writer.write(
    new Map([
      ['counting@v1#y', pending('b2', 1)],
      ['counting@v1#x', pending('b', 1)],
    ]),
  );
  await new Promise((r) => setTimeout(r, 10));
  release();
  expect(await Promise.all([a, b])).toEqual([[], []]);
  // y: one write with both segments' events; x: A's write was under way, so B's is a second one.
  expect(rows.saves.filter((k) => k === 'counting@v1#y')).toHaveLength(1);
  expect(rows.saves.filter((k) => k === 'counting@v1#x')).toHaveLength(2);
  expect(rows.items.get('counting@v1#y')).toMatchObject({
    view: { events: 2 },
    applied: { a2: 1, b2: 1 },
  });
  expect(rows.items.get('counting@v1#x')).toMatchObject({
    view: { events: 3 },
    applied: { a: 2, b: 1 },
  });
});

test('given a row another writer changed since this writer wrote it, when written again, then the conditional write fails, the row is read again and no event is applied twice', async () => {
  const rows = memoryRows();
  const writer = createRowWriter(rows.store, target);
  await writer.write(new Map([['counting@v1#x', pending('a', 1)]]));
  // The live projector applies c v1 meanwhile: the writer's remembered row is now stale.
  const stored = rows.items.get('counting@v1#x')!;
  await rows.store.save(
    { ...stored, view: { events: 2 }, applied: { ...stored.applied, c: 1 }, rev: stored.rev + 1 },
    stored.rev,
  );
  // The rebuild meets c v1 (already applied) and d v1 (new).
  expect(
    await writer.write(new Map([['counting@v1#x', [...pending('c', 1), ...pending('d', 1)]]])),
  ).toEqual([]);
  expect(rows.items.get('counting@v1#x')).toMatchObject({
    view: { events: 3 },
    applied: { a: 1, c: 1, d: 1 },
    rev: 3,
  });
});

test('given a shared write of one row, when one aggregate is refused by the reducer, then only the segment that sent it hears of it and the others are applied', async () => {
  const rows = memoryRows();
  const writer = createRowWriter(rows.store, target, { concurrency: 1 });
  const release = rows.hold();
  const first = writer.write(new Map([['counting@v1#w', pending('w', 1)]]));
  const a = writer.write(new Map([['counting@v1#x', pending('bad-1', 1, 2)]]));
  const b = writer.write(new Map([['counting@v1#x', pending('good', 1)]]));
  release();
  await first;
  expect(await a).toEqual(['counting@v1#x: bad-1 v1: a bug in the reducer']);
  expect(await b).toEqual([]);
  expect(rows.items.get('counting@v1#x')).toMatchObject({
    view: { events: 1 },
    applied: { good: 1 },
  });
});
