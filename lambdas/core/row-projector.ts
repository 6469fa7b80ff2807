/**
 * The projector of declared projections (./row-projection.ts), whose rows may be fed by many
 * aggregates. Per batch:
 *
 * 1. For each source aggregate in the batch, its events up to the highest version delivered are
 *    read from the event table (the authority, one consistent Query): the state before each
 *    event is the source reducer's fold, and a gap or an out-of-order delivery is healed by the
 *    same read. A hole or an unreadable event fails that aggregate's records (retried).
 * 2. Each event a projection handles is routed to its row (`rowKey`); a row's pending events
 *    are grouped, whatever aggregate they come from.
 * 3. Each row is read, the events whose version is above the row's checkpoint for their
 *    aggregate are applied (per aggregate in version order), and the row is written once with a
 *    condition on its revision. A concurrent writer makes the condition fail: re-read, redo.
 *
 * A reducer that throws (a poison event) stops that aggregate on that row at the event: the
 * events before it are applied, its records from that version on are reported failed, and every
 * other aggregate's events are applied.
 */
import { CorruptEventError } from './errors';
import type { EventStore } from './event-store';
import { type EventAction, type StoredEvent, toAction } from './events';
import type { Log } from './log';
import type { ProjectionRowStore } from './dynamodb-projection-rows';
import type { IncomingRecord, ProjectionOutcome } from './projector';
import { StaleRowError } from './projection';
import {
  advanceSource,
  type AnyRowProjection,
  itemKey,
  shardsOf,
  type StoredRow,
} from './row-projection';

export interface RowProjectorDependencies {
  readonly projections: readonly AnyRowProjection[];
  readonly rows: ProjectionRowStore;
  readonly events: EventStore;
  readonly log: Log;
  /** Attempts when another writer stored the row first. */
  readonly maxSaveAttempts?: number;
}

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
  },
): Promise<{ applied: number; poisoned: Map<string, number> }> => {
  for (let attempt = 1; ; attempt++) {
    const stored = await rows.get(key);
    const applied: Record<string, number> = { ...stored?.applied };
    let view: unknown = stored?.view;
    let count = 0;
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
      count++;
    }
    if (count === 0) return { applied: 0, poisoned };
    const row: StoredRow = { key, view, applied, rev: (stored?.rev ?? 0) + 1 };
    try {
      await rows.save(row, stored?.rev ?? 0);
      return { applied: count, poisoned };
    } catch (error) {
      if (error instanceof StaleRowError && attempt < options.maxAttempts) continue;
      throw error;
    }
  }
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const createRowProjector = (deps: RowProjectorDependencies) => {
  const { projections, rows, events: eventStore } = deps;
  const maxSaveAttempts = deps.maxSaveAttempts ?? 8;
  const sourceTypes = new Set(projections.map((p) => p.source.type));
  for (const p of projections) {
    const shards = shardsOf(p);
    if (!Number.isInteger(shards) || shards < 1 || shards > 100 || (shards > 1 && !p.merge)) {
      throw new Error(
        `Projection ${p.name}: shards must be an integer from 1 to 100, and a sharded projection needs merge`,
      );
    }
  }

  /**
   * The consecutive events 1..n of an aggregate, n <= `target`, and the version from which its
   * records must fail: an unreadable event or a hole stops the log there (never fold across it).
   */
  const readLog = async (aggregateId: string, target: number) => {
    let upTo = target;
    let failFrom: number | undefined;
    for (;;) {
      try {
        const log = upTo === 0 ? [] : await eventStore.load(aggregateId, { toVersion: upTo });
        const hole = log.findIndex((e, i) => e.version !== i + 1);
        const complete = hole === -1 ? log : log.slice(0, hole);
        if (complete.length < upTo) failFrom = Math.min(failFrom ?? Infinity, complete.length + 1);
        return { log: complete, failFrom };
      } catch (error) {
        if (!(error instanceof CorruptEventError)) throw error;
        const version = Number(error.version);
        if (!(version >= 1 && version <= upTo)) throw error;
        failFrom = version;
        upTo = version - 1;
      }
    }
  };

  /** The pending events of one aggregate, per stored row key, from its log up to `target`. */
  const route = async (aggregateId: string, target: number) => {
    const { log, failFrom } = await readLog(aggregateId, target);
    const byRow = new Map<string, { projection: AnyRowProjection; pending: Pending[] }>();
    for (const projection of projections) {
      let state: unknown = projection.source.initialState;
      // Foreign events (another aggregate type in this partition) count as versions only.
      for (const event of log.filter(
        (e: StoredEvent) => e.aggregateType === projection.source.type,
      )) {
        const action = toAction(event);
        if (projection.eventTypes.includes(event.type)) {
          const rowKey = projection.rowKey(action, state);
          if (rowKey !== undefined) {
            // Sharded rows: the item of this aggregate's shard (its own checkpoints).
            const key = itemKey(projection, rowKey, aggregateId);
            const entry = byRow.get(key) ?? { projection, pending: [] };
            entry.pending.push({ aggregateId, version: event.version, action, before: state });
            byRow.set(key, entry);
          }
        }
        state = advanceSource(projection, state, action);
      }
    }
    return { byRow, failFrom };
  };

  const applyToRow = (key: string, projection: AnyRowProjection, pending: readonly Pending[]) =>
    applyPendingToRow(rows, key, projection, pending, {
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
    const groups = new Map<string, { id: string; version: number }[]>();
    for (const record of records) {
      if (!('event' in record) || !sourceTypes.has(record.event.aggregateType)) continue;
      const group = groups.get(record.event.aggregateId) ?? [];
      group.push({ id: record.id, version: record.event.version });
      groups.set(record.event.aggregateId, group);
    }
    // aggregateId -> the lowest version whose records must be retried.
    const failedFrom = new Map<string, number>();
    const fail = (aggregateId: string, version: number) =>
      failedFrom.set(aggregateId, Math.min(version, failedFrom.get(aggregateId) ?? Infinity));

    const rowsToWrite = new Map<string, { projection: AnyRowProjection; pending: Pending[] }>();
    await Promise.all(
      [...groups].map(async ([aggregateId, group]) => {
        try {
          const { byRow, failFrom } = await route(
            aggregateId,
            Math.max(...group.map((r) => r.version)),
          );
          if (failFrom !== undefined) {
            log.error('Projection failed', {
              aggregateId,
              failedVersion: failFrom,
              error: `Event ${failFrom} of aggregate ${aggregateId} is missing or unreadable in the event table`,
            });
            fail(aggregateId, failFrom);
          }
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
    await Promise.all(
      [...rowsToWrite].map(async ([key, { projection, pending }]) => {
        const mine = pending.filter((p) => p.version < (failedFrom.get(p.aggregateId) ?? Infinity));
        try {
          const outcome = await applyToRow(key, projection, mine);
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
      'event' in r &&
      failedFrom.has(r.event.aggregateId) &&
      r.event.version >= failedFrom.get(r.event.aggregateId)!
        ? [r.id]
        : [],
    );
    return { failed, applied, ignored: 0 };
  };
};

export type RowProjector = ReturnType<typeof createRowProjector>;
