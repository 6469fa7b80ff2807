/**
 * The workflows function's redrive: runs the process managers again on the events a failure
 * names, read from the event table, through the same process runner the stream feeds
 * (core/workflows/process-runner.ts), and fires again a timer the function failed on.
 *
 * Per aggregate, its events from the first version the failure names (a stream batch's records,
 * an operator's `events` message) to the latest are handed to `handleRecords`, as if the stream
 * delivered them again. Exactly-once is the runner's: a process whose checkpoint is at or past an
 * event does nothing, a step interrupted half way resumes where it stopped, and every command
 * goes out under the id its first attempt had, so the command path answers a repeat without
 * writing. Without a first version (`{ "aggregateIds": [...] }`), the whole log is handed over:
 * what a process handled is skipped by its checkpoint, but a trigger that never reached any
 * process (an event older than the process manager) would run now. See
 * docs/decisions/redrive.md.
 */
import type { EventStore } from '../events/event-store';
import { isOwnEventOfAny } from '../events/events';
import type { IncomingRecord } from '../projections/projector';
import type { Log } from '../shared/log';
import type { ProcessRunner, ProcessTimer } from '../workflows/process-runner';
import type { FirstVersions } from './redrive';
import { errorMessage, rerunEach, type Rerunner, type RerunResult } from './rerun';

export interface ProcessRerunDependencies {
  readonly events: EventStore;
  /** The process runner of the deployment (its records, its command path, its timers). */
  readonly runner: Pick<ProcessRunner, 'handleRecords' | 'fireTimer'>;
  /** The deployment's aggregate types: their events are handed over whole, others as foreign. */
  readonly aggregateTypes: readonly string[];
  readonly log: Log;
  /** Aggregates run at once. @default 8 */
  readonly concurrency?: number;
}

/** What the workflows' redrive runs again: stream records by aggregate, and timers. */
export interface ProcessRedrive {
  readonly rerun: Rerunner;
  /** A timer from the timer dead-letter queue; throws when its process failed again. */
  readonly fireTimer: (timer: ProcessTimer, log: Log) => Promise<unknown>;
}

export const createProcessRerunner = (deps: ProcessRerunDependencies): ProcessRedrive => {
  const concurrency = Math.max(1, deps.concurrency ?? 8);

  const rerunOne = async (aggregateId: string, from: number): Promise<RerunResult> => {
    try {
      const history = await deps.events.load(aggregateId, { afterVersion: from - 1 });
      const latest = history.at(-1);
      if (!latest) {
        // Nothing at or after `from`: no events at all, or a version the log never reached.
        if (from <= 1 || (await deps.events.currentVersion(aggregateId)) === 0) {
          return { aggregateId, status: 'no-events' };
        }
        return { aggregateId, status: 'failed', error: `the log has no version ${from}` };
      }
      const records: IncomingRecord[] = history.map((event) => {
        const id = `redrive:${aggregateId}:${event.version}`;
        return isOwnEventOfAny(deps.aggregateTypes, event) ? { id, event } : { id, foreign: event };
      });
      const outcome = await deps.runner.handleRecords(records, deps.log);
      if (outcome.failed.length > 0) {
        return {
          aggregateId,
          status: 'failed',
          error: 'a process step failed (see the "Process failed" log line of this aggregate)',
        };
      }
      return { aggregateId, status: 'rerun', version: latest.version, sent: outcome.sent };
    } catch (error) {
      deps.log.error('Process re-run failed', { aggregateId, error: errorMessage(error) });
      return { aggregateId, status: 'failed', error: errorMessage(error) };
    }
  };

  return {
    rerun: (
      aggregateIds: Iterable<string>,
      onResult?: (result: RerunResult) => void,
      firstVersions: FirstVersions = {},
    ) =>
      rerunEach(
        aggregateIds,
        concurrency,
        (id) => rerunOne(id, Math.max(1, firstVersions[id] ?? 1)),
        onResult,
      ),
    fireTimer: (timer, log) => deps.runner.fireTimer(timer, log),
  };
};
