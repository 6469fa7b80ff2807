/**
 * Re-projection on demand: brings every projection of a deployment up to date for named
 * aggregates, from the event table (the authority), whatever the stream did or did not deliver.
 *
 * No third projector: each aggregate's latest event is handed to the deployment's projector as
 * if the stream had delivered it alone. Both projectors already heal from the event table when a
 * record is ahead of the row (the order projector reads the missing versions; the row projector
 * reads the log up to the record and applies what is above each row's checkpoint), and both
 * skip what a row already holds, so a re-projection is idempotent: repeating it, or racing the
 * live projector, leaves the rows equal to the fold of the log (docs/decisions/redrive.md).
 */
import { CorruptEventError } from '../shared/errors';
import type { EventStore } from '../events/event-store';
import { isOwnEventOfAny, type StoredEvent } from '../events/events';
import type { Log } from '../shared/log';
import type { IncomingRecord, Projector } from '../projections/projector';
import { errorMessage, rerunEach, type RerunResult } from './rerun';

export interface ReprojectDependencies {
  readonly events: EventStore;
  /** The deployment's projector: every projection a stream record feeds. */
  readonly project: Projector;
  /** The deployment's aggregate types: their events are handed over whole, others as foreign. */
  readonly aggregateTypes: readonly string[];
  readonly log: Log;
  /** Aggregates re-projected at once. @default 8 */
  readonly concurrency?: number;
}

/** A re-projection's result: never `rerun` (that is a process re-run's). */
export type ReprojectResult = Exclude<RerunResult, { readonly status: 'rerun' }>;

/** The aggregate's latest event, read from the event table (two consistent reads). */
const latestEvent = async (
  events: EventStore,
  aggregateId: string,
): Promise<StoredEvent | undefined> => {
  const version = await events.currentVersion(aggregateId);
  if (version === 0) return undefined;
  const [event] = await events.load(aggregateId, {
    afterVersion: version - 1,
    toVersion: version,
  });
  return event;
};

export const createReprojector = (deps: ReprojectDependencies) => {
  const concurrency = Math.max(1, deps.concurrency ?? 8);

  const reprojectOne = async (aggregateId: string): Promise<ReprojectResult> => {
    try {
      const event = await latestEvent(deps.events, aggregateId);
      if (!event) return { aggregateId, status: 'no-events' };
      const id = `reproject:${aggregateId}:${event.version}`;
      const record: IncomingRecord = isOwnEventOfAny(deps.aggregateTypes, event)
        ? { id, event }
        : { id, foreign: event };
      const outcome = await deps.project([record], deps.log);
      if (outcome.failed.length > 0) {
        return {
          aggregateId,
          status: 'failed',
          error: 'a projection failed (see the "Projection failed" log line of this aggregate)',
        };
      }
      return { aggregateId, status: 'reprojected', version: event.version };
    } catch (error) {
      const reason =
        error instanceof CorruptEventError
          ? `${error.message}: ${error.reason}`
          : errorMessage(error);
      deps.log.error('Re-projection failed', { aggregateId, error: reason });
      return { aggregateId, status: 'failed', error: reason };
    }
  };

  /**
   * Re-projects each aggregate (duplicates once), `concurrency` at a time; `onResult` is called
   * as each one ends (progress output). Never throws for one aggregate: its result says why.
   * A Rerunner (./rerun.ts) that needs no first versions: the projectors heal from the log.
   */
  return function reproject(
    aggregateIds: Iterable<string>,
    onResult?: (result: ReprojectResult) => void,
  ): Promise<ReprojectResult[]> {
    return rerunEach(aggregateIds, concurrency, reprojectOne, onResult);
  };
};

export type Reprojector = ReturnType<typeof createReprojector>;
