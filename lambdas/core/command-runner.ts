/**
 * The command runner: consistent load (newest snapshot + the events after it), fold, decide,
 * append; with optimistic concurrency, retries bounded in time, idempotency by commandId (a
 * marker written with the events, one keyed read) and a snapshot taken every N events.
 * Generic over aggregates.
 */
import { type AnyAggregate, foldEvents, foldOwnEvents } from './aggregate';
import { type BackoffPolicy, backoffDelay } from './backoff';
import { canonicalJson, sha256 } from './canonical-json';
import {
  AppError,
  CommandDeadlineError,
  ThrottledError,
  TransactionConflictError,
  ValidationError,
  VersionConflictError,
} from './errors';
import { currentSchemaVersion } from './event-codec';
import { CommandAlreadyRecordedError, type CommandRecord, type EventStore } from './event-store';
import { type StoredEvent, toAction } from './events';
import { DEFAULT_SNAPSHOT_EVERY, type SnapshotStore, snapshotKeyOf } from './snapshots';

/** Where the runner reports what a caller cannot see in the answer (snapshots read or not). */
export interface RunnerLog {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface CommandInput {
  readonly type: string;
  readonly aggregateId: string;
  readonly payload: unknown;
  /** When given, the command applies only at this version (409 at once otherwise). */
  readonly expectedVersion?: number;
  /** Idempotency key chosen by the client; the edge generates one when absent. */
  readonly commandId: string;
}

/** Values stamped by the edge: reducers and decide never read a clock or make ids. */
export interface CommandContext {
  readonly correlationId: string;
  readonly now: () => string;
  readonly newId: () => string;
  /**
   * When the answer is due (epoch ms, `Date.now()` clock): the runner starts no attempt it
   * cannot expect to finish by then and answers COMMAND_DEADLINE instead. Absent: no bound in
   * time (the attempt count still bounds it).
   */
  readonly deadline?: number;
  /** The request's logger (snapshot fallbacks and writes). */
  readonly log?: RunnerLog;
}

export interface CommandResult<State = unknown> {
  readonly aggregateId: string;
  /** The aggregate's version after the command. */
  readonly version: number;
  readonly events: readonly StoredEvent[];
  /**
   * The aggregate's state (folded by its own reducer) after the command. For a replay, the state
   * at the original version when the events read cover it (always without snapshots; with them,
   * when that version is not older than the snapshot read), else the current state as loaded.
   */
  readonly state: State;
  /** The version `state` is at: `version`, or for a replay possibly the current version. */
  readonly stateVersion: number;
  /** True when this is the answer of an earlier run of the same commandId. */
  readonly replayed: boolean;
  /** Attempts that lost a race and were retried (also for a replay found on a later attempt). */
  readonly retries: number;
}

/**
 * How events are written. Default: `store.append`. The coupled profile passes a function that
 * also writes the read-model row in the same transaction, built from `after`: the aggregate's
 * state once the events are applied, and its version.
 */
export type AppendEvents = (
  events: readonly StoredEvent[],
  after: { readonly state: unknown; readonly version: number },
) => Promise<void>;

export interface RetryPolicy {
  /** Attempts in all (first try included) before a conflict or transaction clash is final. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  // The deadline (CommandContext.deadline) is the real bound; this only stops a runaway loop.
  maxAttempts: 100,
  baseDelayMs: 5,
  maxDelayMs: 200,
};

export interface SnapshotOptions {
  readonly store: SnapshotStore;
  /** Take one when this many events lie past the snapshot read (or version 0). Default 100. */
  readonly every?: number;
  /**
   * Longest a command waits for its snapshot write (ms). The write starts once the answer is
   * decided; a slower one is left to finish on its own. Default SNAPSHOT_WRITE_BUDGET_MS.
   */
  readonly writeBudgetMs?: number;
}

/** A snapshot write is one conditional PutItem (a few ms); this only caps a stuck one. */
export const SNAPSHOT_WRITE_BUDGET_MS = 100;

export interface CommandRunnerOptions {
  readonly store: EventStore;
  readonly aggregates: readonly AnyAggregate[];
  /** Read the newest snapshot first and take new ones; absent: always the full history. */
  readonly snapshots?: SnapshotOptions;
  readonly append?: AppendEvents;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The hash a commandId's marker keeps: type, aggregate and payload as sent (canonical JSON). */
export const commandHash = (input: Pick<CommandInput, 'type' | 'aggregateId' | 'payload'>) =>
  sha256(
    canonicalJson({ type: input.type, aggregateId: input.aggregateId, payload: input.payload }),
  );

/** Finds the aggregate whose type prefixes the command type (`order/create` -> `order`). */
export const aggregateFor = (aggregates: readonly AnyAggregate[], commandType: string) => {
  const aggregate = aggregates.find((a) => commandType.startsWith(`${a.type}/`));
  if (!aggregate || !(commandType in aggregate.commandSchemas)) {
    throw new AppError('UNKNOWN_COMMAND_TYPE', `Unknown command type '${commandType}'`, {
      type: commandType,
      known: aggregates.flatMap((a) => Object.keys(a.commandSchemas)),
    });
  }
  return aggregate;
};

/** Validates the payload against the aggregate's schema for this command type. */
export const parseCommandPayload = (aggregate: AnyAggregate, type: string, payload: unknown) => {
  const schema = aggregate.commandSchemas[type];
  if (!schema) throw new AppError('UNKNOWN_COMMAND_TYPE', `Unknown command type '${type}'`);
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    throw new ValidationError(
      `Invalid payload for ${type}`,
      parsed.error.issues.map((issue: { path: PropertyKey[]; message: string }) => ({
        path: ['payload', ...issue.path].join('.'),
        message: issue.message,
      })),
    );
  }
  return parsed.data as unknown;
};

export const createCommandRunner = (options: CommandRunnerOptions) => {
  const { store, aggregates } = options;
  const append: AppendEvents = options.append ?? ((events) => store.append(events));
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? defaultSleep;

  /** Full jitter, so racing writers spread out instead of colliding again. */
  const backoff: BackoffPolicy = { baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs, jitter: 1 };

  const snapshotEvery = options.snapshots?.every ?? DEFAULT_SNAPSHOT_EVERY;
  const snapshotBudgetMs = options.snapshots?.writeBudgetMs ?? SNAPSHOT_WRITE_BUDGET_MS;

  const assertSameCommand = (input: CommandInput, earlierHash: string, hash: string) => {
    if (earlierHash !== hash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        `commandId '${input.commandId}' was already used for a different command`,
        { commandId: input.commandId },
      );
    }
  };

  return async function run(input: CommandInput, context: CommandContext): Promise<CommandResult> {
    const aggregate = aggregateFor(aggregates, input.type);
    const payload = parseCommandPayload(aggregate, input.type, input.payload);
    // The body as sent, not as parsed: two bodies a schema reads alike (a key it drops, a
    // default, a transform) are still two commands under one commandId.
    const hash = commandHash({ ...input, payload: input.payload ?? {} });
    const log = context.log;
    const snapshots = options.snapshots?.store;
    const snapshotKey = snapshots && snapshotKeyOf(aggregate);

    // Events are immutable: what one attempt loaded stays true, so a retry fetches only the
    // events after it and folds them onto the state it already has.
    let state: unknown = aggregate.initialState;
    /** The version `state` is folded to, and the snapshot's version it started from. */
    let loaded = 0;
    let base = 0;
    /** The state at `base` (the snapshot's, or the initial state). */
    let baseState: unknown = aggregate.initialState;
    /** The events read after the snapshot (all of them without one): scanned for replays. */
    const tail: StoredEvent[] = [];
    /** The aggregate type of the partition (its first event's), once known. */
    let owner: string | undefined;
    let slowestAttemptMs = 0;
    let attempts = 0;
    let lastError: string | undefined;
    // A call still running at the deadline is abandoned, not awaited: the answer is due. An
    // abandoned read changes nothing; an abandoned append may still land (`written: unknown`).
    const byDeadline = <T>(work: Promise<T>, writing: boolean): Promise<T> => {
      const { deadline } = context;
      if (deadline === undefined) return work;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new CommandDeadlineError(
                input.aggregateId,
                attempts,
                writing ? 'unknown' : false,
                lastError,
              ),
            ),
          Math.max(0, deadline - Date.now()),
        );
        work.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    };

    /** The newest valid snapshot, if any; an unreadable one is logged and ignored. */
    const readSnapshot = async () => {
      if (!snapshots || !snapshotKey) return;
      try {
        const snapshot = await snapshots.load(input.aggregateId, snapshotKey);
        if (!snapshot) return;
        state = baseState = snapshot.state;
        loaded = base = snapshot.version;
        owner = aggregate.type;
      } catch (error) {
        if (error instanceof ThrottledError) throw error;
        log?.warn('Snapshot ignored: reading the full history', {
          aggregateId: input.aggregateId,
          snapshotKey,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    };
    const catchUp = async () => {
      const newer = await byDeadline(
        store.load(input.aggregateId, { afterVersion: loaded }),
        false,
      );
      if (newer.length === 0) return;
      tail.push(...newer);
      owner ??= newer[0]!.aggregateType;
      loaded = newer.at(-1)!.version;
      state = foldOwnEvents(aggregate, newer, state);
    };

    /** The answer of an earlier run of this commandId, from its marker. */
    const replayOfRecord = async (record: CommandRecord, attempt: number) => {
      assertSameCommand(input, record.commandHash, hash);
      const inTail = tail.filter(
        (e) => e.version >= record.firstVersion && e.version <= record.lastVersion,
      );
      const events =
        inTail.length === record.lastVersion - record.firstVersion + 1
          ? inTail
          : await byDeadline(
              store.load(input.aggregateId, {
                afterVersion: record.firstVersion - 1,
                toVersion: record.lastVersion,
              }),
              false,
            );
      return replayAnswer(record.lastVersion, events, attempt);
    };
    /** The same, found among the events read (events written before markers existed). */
    const replayInTail = (attempt: number) => {
      const earlier = tail.filter((e) => e.commandId === input.commandId);
      const first = earlier[0];
      if (!first) return undefined;
      assertSameCommand(input, first.commandHash, hash);
      return replayAnswer(earlier.at(-1)!.version, earlier, attempt);
    };
    const replayAnswer = (
      version: number,
      events: readonly StoredEvent[],
      attempt: number,
    ): CommandResult => {
      // The state the original answer had, when the events read (`tail`, every version after
      // `base`) reach back to it: folded again, no I/O. Else the current one (see CommandResult).
      const covered = version >= base && version <= loaded;
      return {
        aggregateId: input.aggregateId,
        version,
        events,
        state: !covered
          ? state
          : version === loaded
            ? state
            : foldOwnEvents(
                aggregate,
                tail.filter((e) => e.version <= version),
                baseState,
              ),
        stateVersion: covered ? version : loaded,
        replayed: true,
        retries: attempt,
      };
    };

    /**
     * Saves a snapshot when this many events now lie past the one read: after the outcome is
     * decided, bounded in time, never failing the command (a slow or failed write is logged).
     * `head` is the newest state known: the result's, or for a replay the state as loaded.
     */
    const maybeSnapshot = async (
      result: CommandResult,
      head: { readonly state: unknown; readonly stateVersion: number } = result,
    ): Promise<CommandResult> => {
      if (!snapshots || !snapshotKey) return result;
      if (head.stateVersion - base < snapshotEvery) return result;
      if ((owner ?? aggregate.type) !== aggregate.type) return result;
      const details = { aggregateId: input.aggregateId, version: head.stateVersion };
      const write = snapshots
        .save({
          aggregateId: input.aggregateId,
          snapshotKey,
          version: head.stateVersion,
          state: head.state,
        })
        .then(
          (written) => {
            log?.info(written ? 'Snapshot saved' : 'Snapshot not saved: a newer one exists', {
              ...details,
              afterEvents: head.stateVersion - base,
            });
          },
          (error: unknown) =>
            log?.warn('Snapshot write failed (the command is not affected)', {
              ...details,
              reason: error instanceof Error ? error.message : String(error),
            }),
        );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const budget = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), snapshotBudgetMs);
      });
      const outcome = await Promise.race([write, budget]);
      clearTimeout(timer);
      if (outcome === 'late') {
        log?.warn('Snapshot write still running at its budget: answering without it', {
          ...details,
          budgetMs: snapshotBudgetMs,
        });
      }
      return result;
    };

    for (let attempt = 0; ; attempt++) {
      attempts = attempt + 1;
      const started = Date.now();
      let record: CommandRecord | undefined;
      if (attempt === 0) {
        // The snapshot and the commandId's marker: two keyed reads, side by side.
        [, record] = await byDeadline(
          Promise.all([readSnapshot(), store.findCommand?.(input.aggregateId, input.commandId)]),
          false,
        );
      }
      await catchUp();
      if (attempt === 0 && snapshots && tail.length >= snapshotEvery) {
        log?.info('Long read: no usable snapshot', {
          aggregateId: input.aggregateId,
          snapshotKey,
          fromVersion: base,
          events: tail.length,
        });
      }
      const replay = record ? await replayOfRecord(record, attempt) : replayInTail(attempt);
      if (replay) return maybeSnapshot(replay, { state, stateVersion: loaded });

      // A partition belongs to the type of its first event: never append another type's events.
      if (owner !== undefined && owner !== aggregate.type) {
        throw new AppError(
          'AGGREGATE_TYPE_MISMATCH',
          `${input.aggregateId} is an aggregate of type '${owner}', not '${aggregate.type}'`,
          { aggregateId: input.aggregateId, aggregateType: owner },
        );
      }
      const version = loaded;
      if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
        throw new VersionConflictError(input.aggregateId, input.expectedVersion, version);
      }
      const now = context.now();
      const decided = aggregate.decide(
        state,
        { type: input.type, payload },
        { aggregateId: input.aggregateId, version, now },
      );
      const stray = decided.find((event) => !event.type.startsWith(`${aggregate.type}/`));
      // Readers take such an event for a foreign one (isOwnEvent): it would change no view.
      if (stray) {
        throw new Error(
          `decide of '${aggregate.type}' returned the event type '${stray.type}', outside '${aggregate.type}/'`,
        );
      }
      const events: StoredEvent[] = decided.map((event, index) => ({
        aggregateId: input.aggregateId,
        version: version + index + 1,
        aggregateType: aggregate.type,
        type: event.type,
        payload: event.payload,
        eventId: context.newId(),
        occurredAt: now,
        commandId: input.commandId,
        commandHash: hash,
        correlationId: context.correlationId,
        causationId: input.commandId,
        schemaVersion: currentSchemaVersion(event.type),
      }));
      const after = {
        state: foldEvents(aggregate, events.map(toAction), state),
        version: version + events.length,
      };
      const result: CommandResult = {
        aggregateId: input.aggregateId,
        version: after.version,
        events,
        state: after.state,
        stateVersion: after.version,
        replayed: false,
        retries: attempt,
      };
      if (events.length === 0) return maybeSnapshot(result);

      try {
        await byDeadline(append(events, after), true);
        owner ??= aggregate.type;
        return await maybeSnapshot(result);
      } catch (error) {
        if (error instanceof CommandAlreadyRecordedError) {
          // Another run of this command appended it after this one read its marker.
          const earlier = await byDeadline(
            store.findCommand!(input.aggregateId, input.commandId),
            false,
          );
          await catchUp();
          if (earlier) return replayOfRecord(earlier, attempt);
          throw error;
        }
        const retryable =
          error instanceof TransactionConflictError ||
          (error instanceof VersionConflictError && input.expectedVersion === undefined);
        if (error instanceof VersionConflictError && input.expectedVersion !== undefined) {
          // The winner may be this very command sent twice at once: answer as a replay.
          await catchUp();
          const winner = replayInTail(attempt);
          if (winner) return winner;
        }
        if (!retryable || attempt + 1 >= retry.maxAttempts) throw error;
        lastError = error.code;
        slowestAttemptMs = Math.max(slowestAttemptMs, Date.now() - started);
        const delay = backoffDelay(attempt + 1, backoff);
        // Start another attempt only if it can end by the deadline, judging by the slowest one
        // so far: the answer then comes within the deadline plus one attempt's variance.
        if (
          context.deadline !== undefined &&
          Date.now() + delay + slowestAttemptMs > context.deadline
        ) {
          throw new CommandDeadlineError(input.aggregateId, attempts, false, error.code);
        }
        await sleep(delay);
      }
    }
  };
};

export type CommandRunner = ReturnType<typeof createCommandRunner>;
