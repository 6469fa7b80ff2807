/**
 * What a redrive hands the aggregates of a failure to (docs/decisions/redrive.md): a re-runner,
 * which runs a stream consumer again on their events, read from the event table (the authority).
 * Two exist, one per consumer that dead-letters: the re-projector (./reproject.ts, the
 * projector's) and the process re-runner (./rerun-processes.ts, the workflows function's). Both
 * inherit their consumer's exactly-once: rows and process records carry checkpoints, a process's
 * commands carry ids derived from their trigger, so running one again, or racing the live
 * consumer, changes nothing that is done.
 */
import type { FirstVersions } from './redrive';

export type RerunResult =
  /** Every projection is up to date with the aggregate's log (up to `version`). */
  | { readonly aggregateId: string; readonly status: 'reprojected'; readonly version: number }
  /** Its processes ran every event up to `version` (`sent`: the commands that went out). */
  | {
      readonly aggregateId: string;
      readonly status: 'rerun';
      readonly version: number;
      readonly sent: number;
    }
  /** The aggregate has no events: nothing to run (not a failure). */
  | { readonly aggregateId: string; readonly status: 'no-events' }
  | { readonly aggregateId: string; readonly status: 'failed'; readonly error: string };

/**
 * Runs a consumer again for each aggregate (duplicates once), calling `onResult` as each one
 * ends (progress output); `firstVersions` says from which version, where the failure named one
 * (a consumer that heals from the log, the projector, needs none). Never throws for one
 * aggregate: its result says why.
 */
export type Rerunner = (
  aggregateIds: Iterable<string>,
  onResult?: (result: RerunResult) => void,
  firstVersions?: FirstVersions,
) => Promise<RerunResult[]>;

/** `one` for each id (duplicates once), `concurrency` at a time, in no particular order. */
export const rerunEach = async <Result>(
  aggregateIds: Iterable<string>,
  concurrency: number,
  one: (aggregateId: string) => Promise<Result>,
  onResult?: (result: Result) => void,
): Promise<Result[]> => {
  const queue = [...new Set(aggregateIds)];
  const results: Result[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const result = await one(next);
      results.push(result);
      onResult?.(result);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, concurrency), queue.length) }, worker),
  );
  return results;
};

export const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);
