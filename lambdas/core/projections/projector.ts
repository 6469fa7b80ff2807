/**
 * The projector: applies stream records to read-model rows, one aggregate at a time.
 *
 * - An event is applied only when it is the row's next version; older ones are duplicates.
 * - A gap (Streams orders records per item, not per aggregate) is healed by reading the
 *   missing events from the event table, which is the authority.
 * - Records of one aggregate are applied in version order; different aggregates in parallel.
 * - A record that cannot be parsed or applied is reported as failed, with the later records of
 *   its aggregate (they cannot be applied before it); the others are applied.
 * - Gap healing never folds across a hole: when the table lacks a version, that aggregate's
 *   records fail (they are retried, and the read model never skips an event).
 * - A foreign event inside this projection's partition (another aggregate type, or a type
 *   outside its namespace: isOwnEvent) is skipped with a warning but counts as a version
 *   (docs/decisions/foreign-events.md); a partition whose first event is of another type is
 *   not this projection's concern.
 */
import { CorruptEventError } from '../shared/errors';
import type { EventEnvelope } from '../events/event-codec';
import type { EventStore } from '../events/event-store';
import type { StoredEvent } from '../events/events';
import type { Log } from '../shared/log';
import {
  applyEvent,
  isForeign,
  isTombstone,
  type ProjectedView,
  type ProjectionDefinition,
  type ReadModelRow,
  rowFor,
  StaleRowError,
} from './projection';

/**
 * One stream record, parsed by the handler: an event of this projection's aggregate type, the
 * envelope of an event of another type (not validated further: its shape is not ours to know),
 * or the reason it is not an event.
 */
export type IncomingRecord =
  | { readonly id: string; readonly event: StoredEvent }
  | { readonly id: string; readonly foreign: EventEnvelope & { readonly type?: string } }
  | { readonly id: string; readonly invalid: string };

/** The table has no event at a version the row needs: never fold across it. */
export class EventHoleError extends Error {
  constructor(aggregateId: string, missing: number) {
    super(`Aggregate ${aggregateId} has no event at version ${missing} in the event table`);
    this.name = 'EventHoleError';
  }
}

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
      current = applyEvent(projection, current, event);
    } catch (error) {
      return { view: current, applied, failedAt: event, error };
    }
    applied.push(event);
  }
  return { view: current, applied };
};

export const createProjector = <View extends ProjectedView>(deps: ProjectorDependencies<View>) => {
  const { projection, rows, events: eventStore } = deps;
  const maxSaveAttempts = deps.maxSaveAttempts ?? 5;

  /**
   * Whether a partition that delivered only foreign records is this projection's: its row
   * exists, or its first event is of this projection's type. A foreign version 1 settles it
   * without a read.
   */
  const owns = async (aggregateId: string, firstDelivered: number): Promise<boolean> => {
    if (firstDelivered === 1) return false;
    if ((await rows.get(aggregateId)) !== undefined) return true;
    const [first] = await eventStore.load(aggregateId, { limit: 1 });
    return first !== undefined && !isForeign(projection, first);
  };

  /** Brings one aggregate's row up to `target` version. Returns the version it reached. */
  const projectAggregate = async (
    aggregateId: string,
    delivered: readonly StoredEvent[],
    log: Log,
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
      let toApply: StoredEvent[];
      let unreadable: CorruptEventError | undefined;
      if (contiguous.every((e) => e !== undefined)) toApply = contiguous as StoredEvent[];
      else {
        try {
          toApply = await eventStore.load(aggregateId, { afterVersion: after, toVersion: target });
        } catch (error) {
          if (!(error instanceof CorruptEventError)) throw error;
          // Apply what was delivered before the unreadable event; fail from it onwards.
          const version = Number(error.version);
          const stop = contiguous.findIndex((e) => e === undefined || !(e.version < version));
          toApply = contiguous.slice(0, stop === -1 ? undefined : stop) as StoredEvent[];
          unreadable = error;
        }
      }
      const hole = toApply.findIndex((e, i) => e.version !== after + 1 + i);
      if (!unreadable && (hole !== -1 || toApply.length !== target - after)) {
        const missing = after + 1 + (hole === -1 ? toApply.length : hole);
        return {
          reached: from,
          applied: 0,
          error: new EventHoleError(aggregateId, missing),
          failedVersion: missing,
        };
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
          const fields = {
            correlationId: event.correlationId,
            aggregateId,
            version: event.version,
            type: event.type,
          };
          if (isForeign(projection, event)) {
            log.warn('Skipped a foreign event (counted as a version)', {
              ...fields,
              aggregateType: event.aggregateType,
            });
          } else log.info('Projected event', fields);
        }
      }
      // Nothing is stored when the fold gave no view (e.g. events before creation).
      const reached = result.view && last ? last.version : from;
      if (unreadable && !result.failedAt) {
        return {
          reached,
          applied: Math.max(0, reached - from),
          error: unreadable,
          failedVersion: reached + 1,
        };
      }
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

  /**
   * Projects one batch. `log` is this invocation's logger (its own correlation and request
   * keys); by default the one the projector was built with.
   */
  return async function project(
    records: readonly IncomingRecord[],
    log: Log = deps.log,
  ): Promise<ProjectionOutcome> {
    const failed = new Set<string>();
    const groups = new Map<string, { id: string; event: StoredEvent }[]>();
    const foreign = new Map<string, { id: string; event: StoredEvent }[]>();
    const add = (to: typeof groups, id: string, event: StoredEvent) => {
      const group = to.get(event.aggregateId) ?? [];
      group.push({ id, event });
      to.set(event.aggregateId, group);
    };
    for (const record of records) {
      if ('invalid' in record) {
        log.error('Unreadable stream record', { recordId: record.id, reason: record.invalid });
        failed.add(record.id);
      } else if ('foreign' in record) {
        // Only the envelope is known; folding needs no more (a foreign event changes nothing).
        add(foreign, record.id, record.foreign as unknown as StoredEvent);
      } else if (isForeign(projection, record.event)) {
        // Another listed aggregate's event: this view's only if found in one of its partitions
        // (a hand edit), like any foreign event.
        add(foreign, record.id, record.event);
      } else add(groups, record.id, record.event);
    }
    let ignored = 0;
    await Promise.all(
      [...foreign].map(async ([aggregateId, group]) => {
        const own = groups.get(aggregateId);
        if (own) return own.push(...group);
        const mine = await owns(aggregateId, Math.min(...group.map((r) => r.event.version))).catch(
          (error: unknown) => {
            log.error('Projection failed', {
              aggregateId,
              error: error instanceof Error ? error.message : String(error),
            });
            for (const r of group) failed.add(r.id);
            return false;
          },
        );
        if (mine) groups.set(aggregateId, group);
        else if (!group.some((r) => failed.has(r.id))) ignored += group.length;
      }),
    );

    let applied = 0;
    await Promise.all(
      [...groups].map(async ([aggregateId, group]) => {
        const outcome = await projectAggregate(
          aggregateId,
          group.map((r) => r.event),
          log,
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
