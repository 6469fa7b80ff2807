/**
 * The projector: applies stream records to read-model rows, one aggregate at a time.
 *
 * - An event is applied only when it is the row's next version; older ones are duplicates.
 * - A gap (Streams orders records per item, not per aggregate) is healed by reading the
 *   missing events from the event table, which is the authority.
 * - Records of one aggregate are applied in version order; different aggregates in parallel.
 * - A record that cannot be parsed or applied is reported as failed, with the later records of
 *   its aggregate (they cannot be applied before it); the others are applied.
 */
import type { EventStore } from './event-store';
import { type StoredEvent, toAction } from './events';
import type { Log } from './log';
import {
  isTombstone,
  type ProjectedView,
  type ProjectionDefinition,
  type ReadModelRow,
  rowFor,
  StaleRowError,
} from './projection';

/** One stream record, parsed by the handler: an event, or the reason it is not one. */
export type IncomingRecord =
  | { readonly id: string; readonly event: StoredEvent }
  | { readonly id: string; readonly invalid: string };

export interface RowStore<View> {
  get(id: string): Promise<ReadModelRow<View> | undefined>;
  /** Throws when the stored row is no longer at `previousVersion`. */
  save(row: ReadModelRow<View>, previousVersion: number): Promise<void>;
}

export interface ProjectorDependencies<View extends ProjectedView> {
  readonly projection: ProjectionDefinition<View>;
  readonly rows: RowStore<View>;
  readonly events: EventStore;
  readonly log: Log;
  /** Attempts when another writer stored the row first. */
  readonly maxSaveAttempts?: number;
}

export interface ProjectionOutcome {
  /** Ids of the records to report in `batchItemFailures`. */
  readonly failed: string[];
  readonly applied: number;
  /** Records of other aggregate types. */
  readonly ignored: number;
}

/** Folds `events` (consecutive, starting at the row's next version) onto the row. */
const fold = <View extends ProjectedView>(
  projection: ProjectionDefinition<View>,
  view: View | null,
  events: readonly StoredEvent[],
): { view: View | null; applied: StoredEvent[]; failedAt?: StoredEvent; error?: unknown } => {
  const applied: StoredEvent[] = [];
  let current = view;
  for (const event of events) {
    try {
      current = projection.reducer(current, toAction(event));
    } catch (error) {
      return { view: current, applied, failedAt: event, error };
    }
    applied.push(event);
  }
  return { view: current, applied };
};

export const createProjector = <View extends ProjectedView>(deps: ProjectorDependencies<View>) => {
  const { projection, rows, events: eventStore, log } = deps;
  const maxSaveAttempts = deps.maxSaveAttempts ?? 5;

  /** Brings one aggregate's row up to `target` version. Returns the version it reached. */
  const projectAggregate = async (
    aggregateId: string,
    delivered: readonly StoredEvent[],
  ): Promise<{ reached: number; applied: number; error?: unknown; failedVersion?: number }> => {
    const target = Math.max(...delivered.map((e) => e.version));
    for (let attempt = 1; ; attempt++) {
      const row = await rows.get(aggregateId);
      const from = row?.version ?? 0;
      if (from >= target) return { reached: from, applied: 0 };

      // A tombstone cannot be folded onward: rebuild from the first event.
      const base = row === undefined || isTombstone(row) ? null : row;
      const after = base === null ? 0 : from;
      const byVersion = new Map(delivered.map((e) => [e.version, e]));
      const contiguous = Array.from({ length: target - after }, (_, i) =>
        byVersion.get(after + 1 + i),
      );
      const toApply = contiguous.every((e) => e !== undefined)
        ? (contiguous as StoredEvent[])
        : await eventStore.load(aggregateId, { afterVersion: after, toVersion: target });
      if (toApply.length !== contiguous.length) {
        log.warn('Gap healing found fewer events than expected', { aggregateId, after, target });
      }

      const result = fold(projection, base, toApply);
      const last = result.applied.at(-1);
      if (result.view && last) {
        try {
          await rows.save(rowFor(projection, result.view), from);
        } catch (error) {
          if (attempt < maxSaveAttempts && error instanceof StaleRowError) {
            continue;
          }
          return { reached: from, applied: 0, error, failedVersion: from + 1 };
        }
        for (const event of result.applied.filter((e) => e.version > from)) {
          log.info('Projected event', {
            correlationId: event.correlationId,
            aggregateId,
            version: event.version,
            type: event.type,
          });
        }
      }
      // Nothing is stored when the fold gave no view (e.g. events before creation).
      const reached = result.view && last ? last.version : from;
      return result.failedAt
        ? {
            reached,
            applied: result.applied.length,
            error: result.error,
            failedVersion: result.failedAt.version,
          }
        : { reached, applied: Math.max(0, reached - from) };
    }
  };

  return async function project(records: readonly IncomingRecord[]): Promise<ProjectionOutcome> {
    const failed = new Set<string>();
    const groups = new Map<string, { id: string; event: StoredEvent }[]>();
    let ignored = 0;
    for (const record of records) {
      if ('invalid' in record) {
        log.error('Unreadable stream record', { recordId: record.id, reason: record.invalid });
        failed.add(record.id);
      } else if (record.event.aggregateType !== projection.aggregateType) {
        ignored++;
      } else {
        const group = groups.get(record.event.aggregateId) ?? [];
        group.push({ id: record.id, event: record.event });
        groups.set(record.event.aggregateId, group);
      }
    }

    let applied = 0;
    await Promise.all(
      [...groups].map(async ([aggregateId, group]) => {
        const outcome = await projectAggregate(
          aggregateId,
          group.map((r) => r.event),
        ).catch((error: unknown) => ({ reached: 0, applied: 0, error, failedVersion: 0 }));
        applied += outcome.applied;
        if (outcome.error !== undefined) {
          const failedVersion = outcome.failedVersion ?? 0;
          log.error('Projection failed', {
            aggregateId,
            failedVersion,
            error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
            correlationId: group.find((r) => r.event.version === failedVersion)?.event
              .correlationId,
          });
          for (const r of group) if (r.event.version >= failedVersion) failed.add(r.id);
        }
      }),
    );
    return { failed: records.filter((r) => failed.has(r.id)).map((r) => r.id), applied, ignored };
  };
};

export type Projector = ReturnType<typeof createProjector>;
