/**
 * The command runner's decisions, as pure functions (no store, no clock: the time is a
 * parameter), each tested on its own (test/unit/command-runner-policy.test.ts); the runner
 * (command-runner.ts) does the I/O around them:
 *
 * - what a run has read of the aggregate, and how a retry reads on from it (events are
 *   immutable, so what one attempt loaded stays true);
 * - idempotency: the answer of an earlier run of the same commandId, from its marker or from
 *   the events read, and a commandId reused for another command;
 * - what a failed append means (a replay, a final conflict, a lost race, or an error), and
 *   after a lost race whether to retry, give up or answer COMMAND_DEADLINE;
 * - when a snapshot is due.
 */
import { type AnyAggregate, foldOwnEvents } from './aggregate';
import { type BackoffPolicy, backoffDelay } from '../shared/backoff';
import { AppError, TransactionConflictError, VersionConflictError } from '../shared/errors';
import type { CommandRecord } from '../events/event-store';
import type { StoredEvent } from '../events/events';

export interface RetryPolicy {
  /** Attempts in all (first try included) before a conflict or transaction clash is final. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * The backoff's base is the slowest attempt so far when that is longer than `baseDelayMs`:
   * contenders then spread over about as long as an attempt takes, whatever the store's latency.
   */
  readonly sizedFromAttempts?: boolean;
  /**
   * The first this many lost races retry at once, with no wait: the loser reads on only the
   * winner's events, so it is usually first to the next version. The backoff starts after them.
   * @default 0
   */
  readonly immediateRetries?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  // The deadline (CommandContext.deadline) is the real bound; this only stops a runaway loop.
  maxAttempts: 100,
  // Full jitter from the slowest attempt's time, doubling to 800 ms: with 16, 50 and 200 writers
  // on one aggregate this applied 1.6x, 2.1x and 10x what 5 -> 200 ms did
  // (docs/decisions/retries-spread-by-attempt-time.md).
  baseDelayMs: 5,
  maxDelayMs: 800,
  sizedFromAttempts: true,
};

/** Full jitter, so racing writers spread out instead of colliding again. */
export const retryBackoff = (retry: RetryPolicy): BackoffPolicy => ({
  baseMs: retry.baseDelayMs,
  maxMs: retry.maxDelayMs,
  jitter: 1,
});

// ---------------------------------------------------------------------------------------------
// What a run has read

/** The aggregate as a run has read it: the newest snapshot (if any) and the events after it. */
export interface Loaded {
  /** The state folded to `version`. */
  readonly state: unknown;
  readonly version: number;
  /** The snapshot's version the fold started from (0 without one), and the state there. */
  readonly base: number;
  readonly baseState: unknown;
  /** The events read after `base` (all of them without a snapshot): scanned for replays. */
  readonly tail: readonly StoredEvent[];
  /** The aggregate type of the partition (its first event's), once known. */
  readonly owner?: string;
}

/** Nothing read yet: the initial state, or the snapshot's (which names the partition's type). */
export const loadedFrom = (
  aggregate: AnyAggregate,
  snapshot?: { readonly state: unknown; readonly version: number },
): Loaded =>
  snapshot
    ? {
        state: snapshot.state,
        version: snapshot.version,
        base: snapshot.version,
        baseState: snapshot.state,
        tail: [],
        owner: aggregate.type,
      }
    : {
        state: aggregate.initialState,
        version: 0,
        base: 0,
        baseState: aggregate.initialState,
        tail: [],
      };

/** `newer` (the events after `loaded.version`) folded onto what was read. */
export const readOn = (
  aggregate: AnyAggregate,
  loaded: Loaded,
  newer: readonly StoredEvent[],
): Loaded =>
  newer.length === 0
    ? loaded
    : {
        ...loaded,
        state: foldOwnEvents(aggregate, newer, loaded.state),
        version: newer.at(-1)!.version,
        tail: [...loaded.tail, ...newer],
        owner: loaded.owner ?? newer[0]!.aggregateType,
      };

/** What was read, with `events` appended on it and `state` their fold (decided, not read). */
export const appended = (loaded: Loaded, events: readonly StoredEvent[], state: unknown): Loaded =>
  events.length === 0
    ? loaded
    : {
        ...loaded,
        state,
        version: events.at(-1)!.version,
        tail: [...loaded.tail, ...events],
        owner: loaded.owner ?? events[0]!.aggregateType,
      };

// ---------------------------------------------------------------------------------------------
// Idempotency

/** An earlier run's commandId with another body: 409, whatever that run's outcome. */
export const assertSameCommand = (commandId: string, earlierHash: string, hash: string) => {
  if (earlierHash !== hash) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      `commandId '${commandId}' was already used for a different command`,
      { commandId },
    );
  }
};

/** The events a marker names, when the events read hold them all; undefined: read them. */
export const recordedEventsRead = (
  record: CommandRecord,
  loaded: Loaded,
): readonly StoredEvent[] | undefined => {
  const inTail = loaded.tail.filter(
    (e) => e.version >= record.firstVersion && e.version <= record.lastVersion,
  );
  return inTail.length === record.lastVersion - record.firstVersion + 1 ? inTail : undefined;
};

/** An earlier run of `commandId` among the events read (those after the snapshot read). */
export const earlierRunRead = (loaded: Loaded, commandId: string) => {
  const events = loaded.tail.filter((e) => e.commandId === commandId);
  const first = events[0];
  return first && { hash: first.commandHash, version: events.at(-1)!.version, events };
};

/**
 * The answer of an earlier run that ended at `version`: the state it had, when the events read
 * reach back to it (folded again, no I/O), else the current one (see CommandResult.state).
 */
export const replayAnswer = (
  aggregate: AnyAggregate,
  loaded: Loaded,
  aggregateId: string,
  version: number,
  events: readonly StoredEvent[],
  retries: number,
) => {
  const isCovered = (v: number) => v >= loaded.base && v <= loaded.version;
  const stateAt = (v: number) =>
    v === loaded.version
      ? loaded.state
      : foldOwnEvents(
          aggregate,
          loaded.tail.filter((e) => e.version <= v),
          loaded.baseState,
        );
  const covered = isCovered(version);
  // The state the command was decided on, when the events read reach back to it: the coupled
  // answer folds the view from it, with no read (a replay of a recent command costs no I/O).
  const before = (events[0]?.version ?? version + 1) - 1;
  return {
    aggregateId,
    version,
    events,
    state: covered ? stateAt(version) : loaded.state,
    stateVersion: covered ? version : loaded.version,
    ...(isCovered(before) && { stateBefore: stateAt(before) }),
    replayed: true,
    retries,
  };
};

// ---------------------------------------------------------------------------------------------
// Retries and the deadline

/**
 * What a failed append means:
 * - `conflict`: the version moved under a command with `expectedVersion`: final (409), unless
 *   the winner is this very command sent twice at once (then a replay);
 * - `raced`: a lost race without `expectedVersion` (a version conflict or a transaction clash,
 *   the latter even with `expectedVersion`): retry on the newer state;
 * - `final`: anything else (throttling the SDK already retried, a too-large item...): the error
 *   is the answer.
 */
export type AppendFailure = 'conflict' | 'raced' | 'final';

export const appendFailure = (error: unknown, expectedVersion?: number): AppendFailure => {
  if (error instanceof VersionConflictError)
    return expectedVersion === undefined ? 'raced' : 'conflict';
  if (error instanceof TransactionConflictError) return 'raced';
  return 'final';
};

/** After a lost race: wait and retry, give the conflict as the answer, or answer the deadline. */
export type AfterLostRace =
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'give-up' }
  | { readonly kind: 'deadline' };

export const afterLostRace = (input: {
  /** Attempts made so far, the lost one included (1 = the first try lost). */
  readonly attempts: number;
  /** The slowest attempt so far (ms): what the next one is expected to take at most. */
  readonly slowestAttemptMs: number;
  readonly now: number;
  /** When the answer is due (epoch ms); absent: no bound in time. */
  readonly deadline?: number;
  readonly policy: RetryPolicy;
  readonly random?: () => number;
}): AfterLostRace => {
  if (input.attempts >= input.policy.maxAttempts) return { kind: 'give-up' };
  const immediate = input.policy.immediateRetries ?? 0;
  const base = input.policy.sizedFromAttempts
    ? Math.max(input.policy.baseDelayMs, input.slowestAttemptMs)
    : input.policy.baseDelayMs;
  const delayMs =
    input.attempts <= immediate
      ? 0
      : backoffDelay(
          input.attempts - immediate,
          retryBackoff({ ...input.policy, baseDelayMs: base }),
          input.random,
        );
  // Start another attempt only if it can end by the deadline, judging by the slowest one so
  // far: the answer then comes within the deadline plus one attempt's variance.
  if (input.deadline !== undefined && input.now + delayMs + input.slowestAttemptMs > input.deadline)
    return { kind: 'deadline' };
  return { kind: 'retry', delayMs };
};

/**
 * Whether a command that waited for its turn (aggregate-queue.ts) may start: only when it can
 * expect to finish by its deadline, judging by the slowest recent run. Otherwise it answers
 * COMMAND_DEADLINE at once, having written nothing, instead of being abandoned mid-write.
 */
export const queuedTurn = (input: {
  readonly now: number;
  /** When the answer is due (epoch ms); absent: no bound in time. */
  readonly deadline?: number;
  /** What a run is expected to take (ms): the slowest recent one, 0 before any. */
  readonly expectedRunMs: number;
}): 'start' | 'deadline' =>
  input.deadline !== undefined && input.now + input.expectedRunMs >= input.deadline
    ? 'deadline'
    : 'start';

// ---------------------------------------------------------------------------------------------
// Snapshots

/** A snapshot at `stateVersion` is due when `every` events lie past the one read (or 0). */
export const snapshotDue = (
  aggregate: AnyAggregate,
  loaded: Pick<Loaded, 'base' | 'owner'>,
  stateVersion: number,
  every: number,
) => stateVersion - loaded.base >= every && (loaded.owner ?? aggregate.type) === aggregate.type;
