/**
 * The projector of declared projections (./row-projection.ts), whose rows may be fed by many
 * aggregates. Per batch:
 *
 * 1. For each source aggregate in the batch, its events up to the highest version delivered are
 *    folded by the source reducer (the state before each event). When the batch delivered every
 *    one of them (after what the cache below holds), the delivered events are folded: they are
 *    the event items themselves, immutable. Otherwise they are read from the event table (the
 *    authority, one consistent Query), which heals a gap or an out-of-order delivery; a hole or
 *    an unreadable event fails that aggregate's records (retried). The source-state cache makes
 *    that read start after the last version this instance has already routed and applied
 *    everywhere.
 * 2. Each event a projection handles is routed to its row (`rowKey`); a row's pending events
 *    are grouped, whatever aggregate they come from.
 * 3. The rows are read (one consistent BatchGetItem per 100; not the rows this instance last
 *    wrote or read, which it keeps: `rowCacheSize`), the events whose version is above a row's
 *    checkpoint for their aggregate are applied (per aggregate in version order), and the row is
 *    written once with a condition on its revision. A concurrent writer makes the condition
 *    fail (a kept row is then stale): re-read, redo.
 *
 * A reducer that throws (a poison event) stops that aggregate on that row at the event: the
 * events before it are applied, its records from that version on are reported failed, and every
 * other aggregate's events are applied. A record the handler could not read at all (`invalid`)
 * is logged and reported failed, never acknowledged unseen.
 *
 * The source-state cache (docs/decisions/projector-source-state-cache.md): per source
 * aggregate, the version `c` up to which this instance routed every event and applied it to every
 * row without a failure, with the source states after `c`. A batch up to `t <= c` reads nothing;
 * otherwise only the events after `c` are read and folded on from the cached states. An entry
 * advances only for aggregates the batch did not fail, and any failure drops it (the retry reads
 * from version 1). Safe with other instances: rows' checkpoints only grow, so an entry never
 * claims more than the rows hold; a stale one only re-routes events the rows then skip.
 */
import { RecentlyUsed } from '../shared/recently-used';
import { deliveredRun } from '../events/delivered-run';
import { CorruptEventError } from '../shared/errors';
import type { EventStore } from '../events/event-store';
import { type EventAction, isOwnEvent, type StoredEvent, toAction } from '../events/events';
import type { Log } from '../shared/log';
import { eventsByAggregate, type IncomingRecord, type ProjectionOutcome } from './projector';
import {
  advanceSource,
  type AnyRowProjection,
  itemKey,
  type ProjectionRowStore,
  shardsOf,
  StaleRowError,
  storageName,
  type StoredRow,
} from './row-projection';
import { listAttributes } from './row-lists';

export interface RowProjectorDependencies {
  readonly projections: readonly AnyRowProjection[];
  readonly rows: ProjectionRowStore;
  readonly events: EventStore;
  readonly log: Log;
  /** Attempts when another writer stored the row first. */
  readonly maxSaveAttempts?: number;
  /**
   * Source aggregates whose states this instance keeps (least recently used evicted); 0 turns
   * the cache off (every batch reads each aggregate's log from version 1). @default 10_000
   */
  readonly cacheSize?: number;
  /**
   * Rows this instance keeps as it last wrote or read them, so the next batch writes them
   * unread (least recently used evicted; a stale one costs a failed conditional write and a
   * read); 0 reads every row. Memory: up to this many rows, each at most DynamoDB's 400 KB item.
   * @default 1_000
   */
  readonly rowCacheSize?: number;
}

export const DEFAULT_SOURCE_CACHE_SIZE = 10_000;
export const DEFAULT_ROW_CACHE_SIZE = 1_000;

/** What the cache holds per aggregate: every event up to `version` routed and applied. */
interface SourceEntry {
  readonly version: number;
  /** The state after `version` of each distinct source (same order as `sources`). */
  readonly states: readonly unknown[];
}

/** The source states, least recently used evicted first. */
const sourceCache = (limit: number) => {
  const entries = new RecentlyUsed<string, SourceEntry>(limit);
  return {
    get: (id: string) => entries.get(id),
    /** Never moves an entry back: a slower concurrent batch may end after a faster one. */
    advance(id: string, entry: SourceEntry) {
      if ((entries.peek(id)?.version ?? 0) >= entry.version) return;
      entries.set(id, entry);
    },
    drop: (id: string) => entries.delete(id),
  };
};

/** An event on its way to a row: its aggregate, version, and the source state before it. */
export interface Pending {
  readonly aggregateId: string;
  readonly version: number;
  readonly action: EventAction;
  readonly before: unknown;
}

/**
 * Applies `pending` to one stored row exactly once: the events above the row's checkpoint for
 * their aggregate, per aggregate in version order, written with a condition on the row's
 * revision (re-read and redone when another writer stored it first). A reducer that throws stops
 * its aggregate on this row at that event (`poisoned`: aggregate -> version); the others go on.
 * The live projector, the rebuild and redrive all write rows through this one function.
 */
export const applyPendingToRow = async (
  rows: ProjectionRowStore,
  key: string,
  projection: AnyRowProjection,
  pending: readonly Pending[],
  options: {
    readonly maxAttempts: number;
    /** Called for each event whose reducer threw, on every attempt. */
    readonly onReducerError?: (pending: Pending, error: unknown) => void;
    /** The storage `key` is in (its lists' partitions name it). @default the served one */
    readonly storage?: string;
  },
): Promise<{ applied: number; poisoned: Map<string, number> }> => {
  for (let attempt = 1; ; attempt++) {
    const stored = await rows.get(key);
    const applied: Record<string, number> = { ...stored?.applied };
    let view: unknown = stored?.view;
    const folded: EventAction[] = [];
    const poisoned = new Map<string, number>();
    for (const p of pending) {
      if (poisoned.has(p.aggregateId) || p.version <= (applied[p.aggregateId] ?? 0)) continue;
      try {
        view = projection.reducer(view, p.action, p.before);
      } catch (error) {
        options.onReducerError?.(p, error);
        poisoned.set(p.aggregateId, p.version);
        continue;
      }
      applied[p.aggregateId] = p.version;
      folded.push(p.action);
    }
    if (folded.length === 0) return { applied: 0, poisoned };
    const row: StoredRow = {
      key,
      view,
      applied,
      rev: (stored?.rev ?? 0) + 1,
      ...listAttributes(projection, options.storage ?? storageName(projection), view),
    };
    try {
      await rows.save(row, stored?.rev ?? 0, folded);
      return { applied: folded.length, poisoned };
    } catch (error) {
      if (error instanceof StaleRowError && attempt < options.maxAttempts) continue;
      throw error;
    }
  }
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * `rows` whose first read of each key in `first` answers from it (`null`: no row) with no call;
 * a later read (an attempt redone after a race) reads the table.
 */
export const primedReads = (
  rows: ProjectionRowStore,
  first: Map<string, StoredRow | null>,
): ProjectionRowStore => ({
  async get(key) {
    const primed = first.get(key);
    first.delete(key);
    return primed !== undefined ? (primed ?? undefined) : rows.get(key);
  },
  save: (row, previousRev, folded) => rows.save(row, previousRev, folded),
});

/**
 * The rows a writer last wrote or read (null: absent), least recently used first: only a guess
 * of the stored row. A write from it is conditional on its revision like any other, so when
 * another writer (another projector instance, a rebuild's segment, a redrive) changed the row
 * since, the write fails, the row is read again and the events redone: exactly-once never rests
 * on the guess. `takeAll` removes the entries it answers, so an attempt redone after a race
 * reads the table.
 */
export const knownRows = (limit: number) => {
  const rows = new RecentlyUsed<string, StoredRow | null>(limit);
  const take = (key: string) => {
    const row = rows.peek(key);
    rows.delete(key);
    return row;
  };
  return {
    set: (key: string, row: StoredRow | null) => rows.set(key, row),
    forget: (key: string) => rows.delete(key),
    /** The kept rows of `keys`, taken out (`first`), and the keys to read (`unread`). */
    takeAll(keys: Iterable<string>) {
      const first = new Map<string, StoredRow | null>();
      const unread: string[] = [];
      for (const key of keys) {
        if (rows.has(key)) first.set(key, take(key)!);
        else unread.push(key);
      }
      return { first, unread };
    },
  };
};

export type KnownRows = ReturnType<typeof knownRows>;

/**
 * A row store whose first read of each key in `first` answers from it (no call), then reads
 * the table; every read and successful write is remembered in `known` for the next batch.
 */
export const primedRows = (
  rows: ProjectionRowStore,
  first: Map<string, StoredRow | null>,
  known: KnownRows,
): ProjectionRowStore => {
  const reads = primedReads(rows, first);
  return {
    async get(key) {
      const row = await reads.get(key);
      known.set(key, row ?? null);
      return row;
    },
    async save(row, previousRev, folded) {
      try {
        await rows.save(row, previousRev, folded);
        known.set(row.key, row);
      } catch (error) {
        known.forget(row.key);
        throw error;
      }
    },
  };
};

/** Keys per BatchGetItem (DynamoDB's limit). */
const KEYS_PER_BATCH_GET = 100;

/**
 * The stored rows of `keys` (`null`: none yet), one consistent BatchGetItem per 100 keys instead
 * of a GetItem each: the first read of every row a batch writes. Nothing for a single row or a
 * store without `getMany`; a failed read leaves its keys to read themselves.
 */
const readFirst = async (rows: ProjectionRowStore, keys: readonly string[]) => {
  const first = new Map<string, StoredRow | null>();
  if (!rows.getMany || keys.length < 2) return first;
  const chunks = Array.from({ length: Math.ceil(keys.length / KEYS_PER_BATCH_GET) }, (_, i) =>
    keys.slice(i * KEYS_PER_BATCH_GET, (i + 1) * KEYS_PER_BATCH_GET),
  );
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const found = new Map((await rows.getMany!(chunk)).map((row) => [row.key, row]));
        for (const key of chunk) first.set(key, found.get(key) ?? null);
      } catch {
        // Each row of the chunk reads itself, as without the batch read.
      }
    }),
  );
  return first;
};

export const createRowProjector = (deps: RowProjectorDependencies) => {
  const { projections, rows, events: eventStore } = deps;
  const maxSaveAttempts = deps.maxSaveAttempts ?? 8;
  const sourceTypes = new Set(projections.map((p) => p.source.type));
  // Projections of one source (the same declaration, e.g. the order aggregate) share its fold.
  const sources = [...new Set(projections.map((p) => p.source))];
  const bySource = sources.map((source) => projections.filter((p) => p.source === source));
  /** A cache size option, or a clear error (an unbounded cache by typo). */
  const sizeOf = (name: 'cacheSize' | 'rowCacheSize', fallback: number) => {
    const size = deps[name] ?? fallback;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new Error(`The projector's ${name} must be an integer >= 0: ${size}`);
    }
    return size;
  };
  const cache = sourceCache(sizeOf('cacheSize', DEFAULT_SOURCE_CACHE_SIZE));
  const known = knownRows(sizeOf('rowCacheSize', DEFAULT_ROW_CACHE_SIZE));
  for (const p of projections) {
    const shards = shardsOf(p);
    if (!Number.isInteger(shards) || shards < 1 || shards > 100 || (shards > 1 && !p.merge)) {
      throw new Error(
        `Projection ${p.name}: shards must be an integer from 1 to 100, and a sharded projection needs merge`,
      );
    }
  }

  /**
   * The consecutive events after..n of an aggregate, n <= `target`, and the version from which
   * its records must fail: an unreadable event or a hole stops the log there (never fold across
   * it).
   */
  const readLog = async (aggregateId: string, after: number, target: number) => {
    let upTo = target;
    let failFrom: number | undefined;
    for (;;) {
      try {
        const log =
          upTo <= after
            ? []
            : await eventStore.load(
                aggregateId,
                after === 0 ? { toVersion: upTo } : { afterVersion: after, toVersion: upTo },
              );
        const hole = log.findIndex((e, i) => e.version !== after + i + 1);
        const complete = hole === -1 ? log : log.slice(0, hole);
        if (after + complete.length < upTo) {
          failFrom = Math.min(failFrom ?? Infinity, after + complete.length + 1);
        }
        return { log: complete, failFrom };
      } catch (error) {
        if (!(error instanceof CorruptEventError)) throw error;
        const version = Number(error.version);
        if (!(version > after && version <= upTo)) throw error;
        failFrom = version;
        upTo = version - 1;
      }
    }
  };

  /**
   * The pending events of one aggregate, per stored row key, from its log up to `target` (after
   * the cached version, from the cached states), and the entry the cache takes if nothing fails.
   * `delivered`: the aggregate's events in the batch; the log is read only when they leave a gap.
   */
  const route = async (aggregateId: string, target: number, delivered: readonly StoredEvent[]) => {
    const byRow = new Map<string, { projection: AnyRowProjection; pending: Pending[] }>();
    const cached = cache.get(aggregateId);
    // Every event up to `target` is already on every row: a duplicate or late delivery.
    if (cached && target <= cached.version) return { byRow, failFrom: undefined };
    const after = cached?.version ?? 0;
    const run = deliveredRun(delivered, after, target);
    const { log, failFrom } = run
      ? { log: run, failFrom: undefined }
      : await readLog(aggregateId, after, target);
    const states = cached ? [...cached.states] : sources.map((s) => s.initialState);
    for (const event of log) {
      // Foreign events (not a source's own) count as versions only.
      const action = toAction(event);
      sources.forEach((source, i) => {
        if (!isOwnEvent(source.type, event)) return;
        const before = states[i];
        for (const projection of bySource[i]!) {
          if (!projection.eventTypes.includes(event.type)) continue;
          const rowKey = projection.rowKey(action, before);
          if (rowKey === undefined) continue;
          // Sharded rows: the item of this aggregate's shard (its own checkpoints).
          const key = itemKey(projection, rowKey, aggregateId);
          const entry = byRow.get(key) ?? { projection, pending: [] };
          entry.pending.push({ aggregateId, version: event.version, action, before });
          byRow.set(key, entry);
        }
        states[i] = advanceSource(bySource[i]![0]!, before, action);
      });
    }
    const reached = after + log.length;
    return {
      byRow,
      failFrom,
      next: reached > after ? { version: reached, states } : undefined,
    };
  };

  const applyToRow = (
    store: ProjectionRowStore,
    key: string,
    projection: AnyRowProjection,
    pending: readonly Pending[],
  ) =>
    applyPendingToRow(store, key, projection, pending, {
      maxAttempts: maxSaveAttempts,
      onReducerError: (p, error) =>
        deps.log.error('Projection reducer failed', {
          projection: projection.name,
          key,
          aggregateId: p.aggregateId,
          version: p.version,
          error: message(error),
        }),
    });

  return async function projectRows(
    records: readonly IncomingRecord[],
    log: Log = deps.log,
  ): Promise<ProjectionOutcome> {
    const groups = eventsByAggregate(records, sourceTypes, log);
    // aggregateId -> the lowest version whose records must be retried.
    const failedFrom = new Map<string, number>();
    const fail = (aggregateId: string, version: number) =>
      failedFrom.set(aggregateId, Math.min(version, failedFrom.get(aggregateId) ?? Infinity));

    const rowsToWrite = new Map<string, { projection: AnyRowProjection; pending: Pending[] }>();
    // The cache entries the aggregates reach if none of their events fails in this batch.
    const reached = new Map<string, SourceEntry>();
    await Promise.all(
      [...groups].map(async ([aggregateId, group]) => {
        try {
          const { byRow, failFrom, next } = await route(
            aggregateId,
            Math.max(...group.map((e) => e.version)),
            group,
          );
          if (failFrom !== undefined) {
            log.error('Projection failed', {
              aggregateId,
              failedVersion: failFrom,
              error: `Event ${failFrom} of aggregate ${aggregateId} is missing or unreadable in the event table`,
            });
            fail(aggregateId, failFrom);
          }
          if (next) reached.set(aggregateId, next);
          for (const [key, entry] of byRow) {
            const into = rowsToWrite.get(key) ?? { projection: entry.projection, pending: [] };
            into.pending.push(...entry.pending);
            rowsToWrite.set(key, into);
          }
        } catch (error) {
          log.error('Projection failed', { aggregateId, error: message(error) });
          fail(aggregateId, 0);
        }
      }),
    );

    let applied = 0;
    const { first, unread } = known.takeAll(rowsToWrite.keys());
    for (const [key, row] of await readFirst(rows, unread)) first.set(key, row);
    const primed = primedRows(rows, first, known);
    await Promise.all(
      [...rowsToWrite].map(async ([key, { projection, pending }]) => {
        const mine = pending.filter((p) => p.version < (failedFrom.get(p.aggregateId) ?? Infinity));
        try {
          const outcome = await applyToRow(primed, key, projection, mine);
          applied += outcome.applied;
          for (const [aggregateId, version] of outcome.poisoned) fail(aggregateId, version);
        } catch (error) {
          log.error('Projection failed', {
            projection: projection.name,
            key,
            error: message(error),
          });
          for (const p of mine) fail(p.aggregateId, p.version);
        }
      }),
    );
    for (const aggregateId of groups.keys()) {
      const next = reached.get(aggregateId);
      if (failedFrom.has(aggregateId)) cache.drop(aggregateId);
      else if (next) cache.advance(aggregateId, next);
    }
    for (const [key, { projection, pending }] of rowsToWrite) {
      for (const p of pending) {
        if (!failedFrom.has(p.aggregateId) || p.version < failedFrom.get(p.aggregateId)!) {
          log.info('Applied event to a declared read model', {
            projection: projection.name,
            key,
            aggregateId: p.aggregateId,
            version: p.version,
            correlationId: p.action.meta.correlationId,
          });
        }
      }
    }
    const failed = records.flatMap((r) =>
      'invalid' in r ||
      ('event' in r &&
        failedFrom.has(r.event.aggregateId) &&
        r.event.version >= failedFrom.get(r.event.aggregateId)!)
        ? [r.id]
        : [],
    );
    return { failed, applied, ignored: 0 };
  };
};

export type RowProjector = ReturnType<typeof createRowProjector>;
