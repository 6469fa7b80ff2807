/**
 * The command runner: consistent load, fold, decide, append; with optimistic concurrency,
 * bounded retries and idempotency by commandId. Generic over aggregates.
 */
import { type AnyAggregate, foldEvents } from './aggregate';
import { canonicalJson, sha256 } from './canonical-json';
import {
  AppError,
  CommandDeadlineError,
  TransactionConflictError,
  ValidationError,
  VersionConflictError,
} from './errors';
import { currentSchemaVersion } from './event-codec';
import type { EventStore } from './event-store';
import { type StoredEvent, toAction } from './events';

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
}

export interface CommandResult<State = unknown> {
  readonly aggregateId: string;
  /** The aggregate's version after the command. */
  readonly version: number;
  readonly events: readonly StoredEvent[];
  /** The aggregate's state after the command (folded by the aggregate's own reducer). */
  readonly state: State;
  /**
   * Every event of the aggregate up to `version`, so callers can fold other reducers too. For a
   * replay it is the whole history as loaded now, so a fold of it is the current state.
   */
  readonly history: readonly StoredEvent[];
  /** True when this is the answer of an earlier run of the same commandId. */
  readonly replayed: boolean;
  /** Attempts that lost a race and were retried (also for a replay found on a later attempt). */
  readonly retries: number;
}

/**
 * How events are written. Default: `store.append`. The coupled profile passes a function that
 * also writes the read-model row in the same transaction (it may use `history` to build it).
 */
export type AppendEvents = (
  events: readonly StoredEvent[],
  history: readonly StoredEvent[],
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

export interface CommandRunnerOptions {
  readonly store: EventStore;
  readonly aggregates: readonly AnyAggregate[];
  readonly append?: AppendEvents;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/**
 * The aggregate's state from its history. Events of another aggregate type in its partition
 * (never written by this runner; see docs/decisions.md "Foreign events") change nothing, but
 * still count as versions: the next event goes after them.
 */
const foldOwn = (
  aggregate: AnyAggregate,
  history: readonly StoredEvent[],
  from: unknown = aggregate.initialState,
): unknown =>
  foldEvents(
    aggregate,
    history.filter((e) => e.aggregateType === aggregate.type).map(toAction),
    from,
  );

export const createCommandRunner = (options: CommandRunnerOptions) => {
  const { store, aggregates } = options;
  const append: AppendEvents = options.append ?? ((events) => store.append(events));
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? defaultSleep;

  /** Full-jitter exponential backoff, so racing writers spread out instead of colliding again. */
  const backoffDelay = (attempt: number) =>
    Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);

  const replayOf = (
    history: readonly StoredEvent[],
    input: CommandInput,
    hash: string,
    aggregate: AnyAggregate,
    attempt: number,
  ): CommandResult | undefined => {
    const earlier = history.filter((e) => e.commandId === input.commandId);
    const first = earlier[0];
    if (!first) return undefined;
    if (first.commandHash !== hash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        `commandId '${input.commandId}' was already used for a different command`,
        { commandId: input.commandId },
      );
    }
    const last = earlier.at(-1)!;
    const upTo = history.filter((e) => e.version <= last.version);
    return {
      aggregateId: input.aggregateId,
      version: last.version,
      events: earlier,
      state: foldOwn(aggregate, upTo),
      history,
      replayed: true,
      retries: attempt,
    };
  };

  return async function run(input: CommandInput, context: CommandContext): Promise<CommandResult> {
    const aggregate = aggregateFor(aggregates, input.type);
    const payload = parseCommandPayload(aggregate, input.type, input.payload);
    const hash = commandHash({ ...input, payload });

    // Events are immutable: the history loaded by one attempt stays true, so a retry fetches
    // only the events after it and folds them onto the state it already has.
    const history: StoredEvent[] = [];
    let state: unknown = aggregate.initialState;
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
    const catchUp = async () => {
      const newer = await byDeadline(
        store.load(input.aggregateId, { afterVersion: history.at(-1)?.version ?? 0 }),
        false,
      );
      history.push(...newer);
      state = foldOwn(aggregate, newer, state);
    };

    for (let attempt = 0; ; attempt++) {
      attempts = attempt + 1;
      const started = Date.now();
      await catchUp();
      const replay = replayOf(history, input, hash, aggregate, attempt);
      if (replay) return replay;

      // A partition belongs to the type of its first event: never append another type's events.
      const owner = history[0]?.aggregateType;
      if (owner !== undefined && owner !== aggregate.type) {
        throw new AppError(
          'AGGREGATE_TYPE_MISMATCH',
          `${input.aggregateId} is an aggregate of type '${owner}', not '${aggregate.type}'`,
          { aggregateId: input.aggregateId, aggregateType: owner },
        );
      }
      const version = history.at(-1)?.version ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
        throw new VersionConflictError(input.aggregateId, input.expectedVersion, version);
      }
      const now = context.now();
      const decided = aggregate.decide(
        state,
        { type: input.type, payload },
        { aggregateId: input.aggregateId, version, now },
      );
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
      const result = {
        aggregateId: input.aggregateId,
        version: version + events.length,
        events,
        state: foldEvents(aggregate, events.map(toAction), state),
        history: [...history, ...events],
        replayed: false,
        retries: attempt,
      };
      if (events.length === 0) return result;

      try {
        await byDeadline(append(events, history), true);
        return result;
      } catch (error) {
        const retryable =
          error instanceof TransactionConflictError ||
          (error instanceof VersionConflictError && input.expectedVersion === undefined);
        if (error instanceof VersionConflictError && input.expectedVersion !== undefined) {
          // The winner may be this very command sent twice at once: answer as a replay.
          await catchUp();
          const winner = replayOf(history, input, hash, aggregate, attempt);
          if (winner) return winner;
        }
        if (!retryable || attempt + 1 >= retry.maxAttempts) throw error;
        lastError = error.code;
        slowestAttemptMs = Math.max(slowestAttemptMs, Date.now() - started);
        const delay = backoffDelay(attempt);
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
