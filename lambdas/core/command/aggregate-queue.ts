/**
 * Commands to one aggregate take turns within a process (issue 23, item 3).
 *
 * Two commands to the same aggregate that run at once in one process race for the same version:
 * one loses, reads again and tries again, and under a crowd it loses again to its own siblings
 * (50 writers in one process: 32 answered COMMAND_DEADLINE). Run one after another they never
 * race each other: each reads the version its predecessor wrote and appends the next one. The
 * local runtime runs a stack's functions in one process, so every writer of a hot aggregate
 * meets here; on AWS one Lambda instance handles one request at a time, so the queue is never
 * longer than one there and costs a Map lookup (instances still race each other: the runner's
 * retry policy handles that, see docs/decisions/hot-aggregates-take-turns.md).
 *
 * A command whose turn comes too late to finish by its deadline (judged by the slowest recent
 * run), or that is still waiting when that point passes, answers COMMAND_DEADLINE at once
 * (`written: false`, `attempts: 0`) without running: the rest of a long line is answered in time
 * instead of starting commands that would be abandoned mid-write.
 */
import { type CommandRunnerOptions, createCommandRunner } from './command-runner';
import { queuedTurn } from './command-runner-policy';
import { CommandDeadlineError } from '../shared/errors';

/** How many recent runs the expected run time is taken from (the slowest of them). */
const RECENT_RUNS = 16;

export interface AggregateQueue {
  /**
   * `work` once every earlier work queued for `aggregateId` has settled. With a `deadline`
   * (epoch ms, `Date.now()` clock): COMMAND_DEADLINE instead when it cannot start in time.
   */
  run<T>(aggregateId: string, work: () => Promise<T>, deadline?: number): Promise<T>;
  /** Works queued or running, all aggregates together (0 when idle). */
  readonly pending: number;
}

export interface AggregateQueueOptions {
  /** The clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

export const createAggregateQueue = (options: AggregateQueueOptions = {}): AggregateQueue => {
  const now = options.now ?? Date.now;
  /** Per aggregate: settles when its last queued work has (never rejects). */
  const tails = new Map<string, Promise<void>>();
  const recentRunsMs: number[] = [];
  let pending = 0;
  const expectedRunMs = () => (recentRunsMs.length === 0 ? 0 : Math.max(...recentRunsMs));

  const run = <T>(aggregateId: string, work: () => Promise<T>, deadline?: number): Promise<T> => {
    pending++;
    const waiting = tails.get(aggregateId);
    const previous = waiting ?? Promise.resolve();
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const refuse = () => {
        answered = true;
        reject(new CommandDeadlineError(aggregateId, 0, false));
      };
      // Still waiting when a run could no longer end by the deadline: answer now (not at the
      // deadline, so the answer is not late), and skip the turn when it comes.
      // Only a command that waits behind another is judged here: one with nobody ahead runs at
      // once (the runner keeps its own deadline), whatever a slow run elsewhere took.
      const timer =
        deadline === undefined || waiting === undefined
          ? undefined
          : setTimeout(refuse, Math.max(0, deadline - expectedRunMs() - now()));
      const turn = previous.then(async () => {
        clearTimeout(timer);
        if (answered) return;
        if (
          waiting !== undefined &&
          queuedTurn({ now: now(), deadline, expectedRunMs: expectedRunMs() }) === 'deadline'
        ) {
          refuse();
          return;
        }
        answered = true;
        const started = now();
        try {
          resolve(await work());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        } finally {
          recentRunsMs.push(now() - started);
          if (recentRunsMs.length > RECENT_RUNS) recentRunsMs.shift();
        }
      });
      tails.set(aggregateId, turn);
      void turn.finally(() => {
        pending--;
        // The last in line clears its aggregate's entry: the map holds only busy aggregates.
        if (tails.get(aggregateId) === turn) tails.delete(aggregateId);
      });
    });
  };

  return {
    run,
    get pending() {
      return pending;
    },
  };
};

/**
 * `run` with the commands to one aggregate taking turns (`queue`: one per process, shared by
 * every runner of that process that writes the same aggregates).
 */
export const inTurnPerAggregate =
  <
    Input extends { readonly aggregateId: string },
    Context extends { readonly deadline?: number },
    R,
  >(
    run: (input: Input, context: Context) => Promise<R>,
    queue: AggregateQueue = createAggregateQueue(),
  ) =>
  (input: Input, context: Context): Promise<R> =>
    queue.run(input.aggregateId, () => run(input, context), context.deadline);

/**
 * This process's queue: every runner built by `createCommandRunnerInTurn` shares it, so the
 * commands of all the handlers of one process (API, coupled, process managers) take turns.
 */
export const PROCESS_AGGREGATE_QUEUE = createAggregateQueue();

/** `createCommandRunner`, its commands to one aggregate taking turns in this process. */
export const createCommandRunnerInTurn = (
  options: CommandRunnerOptions,
  queue: AggregateQueue = PROCESS_AGGREGATE_QUEUE,
) => inTurnPerAggregate(createCommandRunner(options), queue);
