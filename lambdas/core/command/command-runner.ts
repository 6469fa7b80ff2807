/**
 * The command runner: consistent load (newest snapshot + the events after it, read side by
 * side, or only the events after the head this runner kept), fold, decide, append; with
 * optimistic concurrency, retries bounded in time, idempotency by commandId (found among the
 * events read, or in the marker recorded before a snapshot covered them) and a snapshot taken
 * every N events. Generic over aggregates. docs/decisions/single-item-appends.md,
 * docs/decisions/runner-keeps-heads.md.
 */
import { type AnyAggregate, foldEvents } from './aggregate';
import { canonicalJson, sha256 } from './canonical-json';
import {
  afterLostRace,
  appended,
  appendFailure,
  assertSameCommand,
  DEFAULT_RETRY_POLICY,
  earlierRunRead,
  type Loaded,
  loadedFrom,
  readOn,
  recordedEventsRead,
  replayAnswer,
  type RetryPolicy,
  snapshotDue,
} from './command-runner-policy';
import {
  AppError,
  CommandDeadlineError,
  NotFoundError,
  ThrottledError,
  ValidationError,
  VersionConflictError,
} from '../shared/errors';
import { currentSchemaVersion } from '../events/event-codec';
import { LatestVersions } from '../shared/latest-versions';
import { RecentlyUsed } from '../shared/recently-used';
import { ForbiddenError } from '../identity/authorization';
import type { Principal } from '../identity/principal';
import { type CommandRecord, commandRecordsOf, type EventStore } from '../events/event-store';
import { type StoredEvent, toAction } from '../events/events';
import { settleWithin } from '../shared/settle-within';
import {
  DEFAULT_SNAPSHOT_EVERY,
  type Snapshot,
  type SnapshotStore,
  snapshotKeyOf,
} from './snapshots';

export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './command-runner-policy';

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
  /**
   * What caused the command, recorded on its events: the triggering event's id for a command a
   * process manager sends. @default the commandId (a request caused it)
   */
  readonly causationId?: string;
  /** Who sends the command: checked by the aggregate's `canRead` and `authorize`, recorded on its events. */
  readonly actor: Principal;
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
  /**
   * The state the command was decided on (the state before `events`). For a replay, present
   * only when the events read reach back to it (as `state`: the snapshot read is not newer).
   */
  readonly stateBefore?: State;
  /** True when this is the answer of an earlier run of the same commandId. */
  readonly replayed: boolean;
  /** Attempts that lost a race and were retried (also for a replay found on a later attempt). */
  readonly retries: number;
}

/**
 * How events are written. Default: `store.append`. The coupled profile passes a function that
 * also writes the aggregate's view in the same transaction, built from `after`: the aggregate's
 * state once the events are applied, its version, and the state they were decided on.
 */
export type AppendEvents = (
  events: readonly StoredEvent[],
  after: { readonly state: unknown; readonly version: number; readonly before: unknown },
) => Promise<void>;

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

/**
 * A snapshot write is one BatchWriteItem of the markers it covers (up to 4 for 100 commands)
 * and one conditional PutItem (a few ms each); this only caps a stuck one.
 */
export const SNAPSHOT_WRITE_BUDGET_MS = 100;

/**
 * The newest events the first read takes beside the snapshot (at most the snapshot interval):
 * an aggregate this short, or this close to its snapshot, is read in one round trip. Longer
 * reads cost read units on every command (a Query is billed by the bytes it reads).
 */
export const NEWEST_EVENTS_READ = 32;

/**
 * How many aggregates a runner keeps as it last left them (state, version and the events after
 * the snapshot, fewer than the snapshot interval): at most ~100 KB each for a 100-event order
 * tail, a few KB for a usual one.
 */
export const HEADS_KEPT = 1_000;

export interface CommandRunnerOptions {
  readonly store: EventStore;
  readonly aggregates: readonly AnyAggregate[];
  /**
   * Read the newest snapshot first and take new ones; absent: the full history (or the events
   * after a head, below 100 events).
   */
  readonly snapshots?: SnapshotOptions;
  readonly append?: AppendEvents;
  /**
   * Aggregates this runner keeps as it last left them (least recently used dropped first), so
   * that its next command to one reads only the events written since; 0: every command reads
   * first. @default HEADS_KEPT
   */
  readonly headsKept?: number;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The hash a commandId's marker keeps: type, aggregate and payload as sent (canonical JSON), and
 * who sent it, so another user reusing a commandId gets IDEMPOTENCY_KEY_REUSED, never the answer
 * (and the state) of someone else's command.
 */
export const commandHash = (
  input: Pick<CommandInput, 'type' | 'aggregateId' | 'payload'> & { readonly actor: string },
) =>
  sha256(
    canonicalJson({
      type: input.type,
      aggregateId: input.aggregateId,
      payload: input.payload,
      actor: input.actor,
    }),
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

/** Attempts made so far and what the lost ones tell: read by the deadline and retry decisions. */
interface Tries {
  /** 1 during the first attempt. */
  readonly attempts: number;
  readonly slowestAttemptMs: number;
  /** The code of the last lost race, reported by COMMAND_DEADLINE. */
  readonly lastError?: string;
}

/**
 * `work`, or COMMAND_DEADLINE when it is still running at the deadline. Such a call is abandoned,
 * not awaited: the answer is due. An abandoned read changes nothing; an abandoned append
 * (`writing`) may still land (`written: unknown`).
 */
const byDeadline = <T>(
  work: Promise<T>,
  deadline: number | undefined,
  aggregateId: string,
  tries: Tries,
  writing = false,
): Promise<T> => {
  if (deadline === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new CommandDeadlineError(
            aggregateId,
            tries.attempts,
            writing ? 'unknown' : false,
            tries.lastError,
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
const readSnapshot = async (
  store: SnapshotStore,
  aggregateId: string,
  snapshotKey: string,
  log: RunnerLog | undefined,
) => {
  try {
    return await store.load(aggregateId, snapshotKey);
  } catch (error) {
    if (error instanceof ThrottledError) throw error;
    log?.warn('Snapshot ignored: reading the full history', {
      aggregateId,
      snapshotKey,
      reason: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
};

/** A caller the aggregate's read rule refuses gets what a missing aggregate gets: 404. */
const assertMayRead = (
  aggregate: AnyAggregate,
  loaded: Loaded,
  aggregateId: string,
  actor: Principal,
) => {
  if (loaded.version > 0 && !aggregate.canRead(actor, loaded.state)) {
    throw new NotFoundError(`${aggregateId} does not exist`, { aggregateId });
  }
};

/**
 * The command decided on the state read: the rules before deciding (the partition's type, the
 * expected version), `decide`, and its events stamped with the system fields.
 */
const decideOn = (
  aggregate: AnyAggregate,
  loaded: Loaded,
  input: CommandInput,
  payload: unknown,
  hash: string,
  context: CommandContext,
  retries: number,
) => {
  // A partition belongs to the type of its first event: never append another type's events.
  if (loaded.owner !== undefined && loaded.owner !== aggregate.type) {
    throw new AppError(
      'AGGREGATE_TYPE_MISMATCH',
      `${input.aggregateId} is an aggregate of type '${loaded.owner}', not '${aggregate.type}'`,
      { aggregateId: input.aggregateId, aggregateType: loaded.owner },
    );
  }
  const command = { type: input.type, payload };
  const refused = aggregate.authorize(context.actor, loaded.state, command);
  if (refused !== undefined) {
    throw new ForbiddenError(refused, aggregate.permissions[refused] ?? `Not allowed: ${refused}`, {
      aggregateId: input.aggregateId,
      type: input.type,
    });
  }
  const { version } = loaded;
  if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
    throw new VersionConflictError(input.aggregateId, input.expectedVersion, version);
  }
  const now = context.now();
  const decided = aggregate.decide(loaded.state, command, {
    aggregateId: input.aggregateId,
    version,
    now,
    actor: context.actor,
  });
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
    causationId: context.causationId ?? input.commandId,
    actor: context.actor.subject,
    schemaVersion: currentSchemaVersion(event.type),
  }));
  const after = {
    state: foldEvents(aggregate, events.map(toAction), loaded.state),
    version: version + events.length,
    before: loaded.state,
  };
  const result: CommandResult = {
    aggregateId: input.aggregateId,
    version: after.version,
    events,
    state: after.state,
    stateVersion: after.version,
    stateBefore: loaded.state,
    replayed: false,
    retries,
  };
  return { events, after, result };
};

/**
 * Saves a snapshot of `head` (the newest state known): after the outcome is decided, bounded in
 * time, never failing the command (a slow or failed write is logged).
 */
const saveSnapshot = async (
  snapshot: Snapshot,
  covered: readonly StoredEvent[],
  stores: { readonly snapshots: SnapshotStore; readonly events: EventStore },
  budgetMs: number,
  log: RunnerLog | undefined,
  settled: () => void,
) => {
  const details = { aggregateId: snapshot.aggregateId, version: snapshot.version };
  const afterEvents = covered.length;
  // The markers of the commands it covers first: once the snapshot is stored, runners stop
  // reading those events, and a resend is recognised by its marker alone.
  const write = (async () => {
    await stores.events.recordCommands?.(commandRecordsOf(covered));
    return stores.snapshots.save(snapshot);
  })().then(
    (written) => {
      log?.info(written ? 'Snapshot saved' : 'Snapshot not saved: a newer one exists', {
        ...details,
        afterEvents,
      });
    },
    (error: unknown) =>
      log?.warn('Snapshot or marker write failed (the command is not affected)', {
        ...details,
        reason: error instanceof Error ? error.message : String(error),
      }),
  );
  void write.finally(settled);
  if ((await settleWithin(write, budgetMs)) === 'late') {
    log?.warn('Snapshot write still running at its budget: answering without it', {
      ...details,
      budgetMs,
    });
  }
};

export const createCommandRunner = (options: CommandRunnerOptions) => {
  const { store, aggregates } = options;
  const append: AppendEvents = options.append ?? ((events) => store.append(events));
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? defaultSleep;
  const snapshots = options.snapshots?.store;
  const snapshotEvery = options.snapshots?.every ?? DEFAULT_SNAPSHOT_EVERY;
  const snapshotBudgetMs = options.snapshots?.writeBudgetMs ?? SNAPSHOT_WRITE_BUDGET_MS;
  /** How long each aggregate was when this runner last read it: whether to read its snapshot early. */
  const seen = new LatestVersions();
  /** Aggregates whose snapshot (with its markers) this runner is writing. */
  const snapshotting = new Set<string>();
  /**
   * Each aggregate as this runner last read or wrote it, keyed by type and id: a prefix of its
   * history for good (events are immutable, versions gapless), so the next command reads on
   * from it like a retry does (docs/decisions/runner-keeps-heads.md).
   */
  const heads = new RecentlyUsed<string, Loaded>(options.headsKept ?? HEADS_KEPT);

  return async function run(input: CommandInput, context: CommandContext): Promise<CommandResult> {
    const aggregate = aggregateFor(aggregates, input.type);
    const payload = parseCommandPayload(aggregate, input.type, input.payload);
    // The body as sent, not as parsed: two bodies a schema reads alike (a key it drops, a
    // default, a transform) are still two commands under one commandId.
    const hash = commandHash({
      ...input,
      payload: input.payload ?? {},
      actor: context.actor.subject,
    });
    const { aggregateId, commandId } = input;
    const log = context.log;
    const snapshotKey = snapshots && snapshotKeyOf(aggregate);
    const within = <T>(work: Promise<T>, tries: Tries, writing = false) =>
      byDeadline(work, context.deadline, aggregateId, tries, writing);
    const headKey = `${aggregate.type}\u0000${aggregateId}`;
    /**
     * Keeps what was read or written as the aggregate's head, never moving one back (a slower
     * run may end after a faster one). Not once a snapshot is due: the next command reads
     * first, and so finds the snapshot instead of a tail that keeps growing. While this runner
     * is writing that snapshot, the head stays: the commands meanwhile read on from it, not
     * the whole history again (the first snapshot of a long history writes its markers for
     * seconds); the head goes when the write ends.
     */
    const keep = (loaded: Loaded) => {
      const due = loaded.version - loaded.base >= snapshotEvery;
      if (due && !snapshotting.has(aggregateId)) heads.delete(headKey);
      else if ((heads.peek(headKey)?.version ?? -1) <= loaded.version) heads.set(headKey, loaded);
      return loaded;
    };

    /** What was read, with the events written since. */
    const catchUp = async (loaded: Loaded, tries: Tries) =>
      keep(
        readOn(
          aggregate,
          loaded,
          await within(store.load(aggregateId, { afterVersion: loaded.version }), tries),
        ),
      );
    /** The answer of an earlier run of this commandId, from its marker. */
    const replayOfRecord = async (record: CommandRecord, loaded: Loaded, tries: Tries) => {
      assertSameCommand(commandId, record.commandHash, hash);
      const events =
        recordedEventsRead(record, loaded) ??
        (await within(
          store.load(aggregateId, {
            afterVersion: record.firstVersion - 1,
            toVersion: record.lastVersion,
          }),
          tries,
        ));
      return replayAnswer(
        aggregate,
        loaded,
        aggregateId,
        record.lastVersion,
        events,
        tries.attempts - 1,
      );
    };
    /** The same, found among the events read; undefined: this command has not run. */
    const replayOfEventsRead = (loaded: Loaded, tries: Tries) => {
      const earlier = earlierRunRead(loaded, commandId);
      if (!earlier) return undefined;
      assertSameCommand(commandId, earlier.hash, hash);
      return replayAnswer(
        aggregate,
        loaded,
        aggregateId,
        earlier.version,
        earlier.events,
        tries.attempts - 1,
      );
    };
    /**
     * The answer, once a snapshot is saved when due. `newest`: the aggregate as it now stands
     * (what was read, with the events appended): the snapshot's state, and the head kept while
     * the snapshot is written.
     */
    const answer = async (result: CommandResult, newest: Loaded) => {
      if (
        snapshots &&
        snapshotKey &&
        !snapshotting.has(aggregateId) &&
        snapshotDue(aggregate, newest, newest.version, snapshotEvery)
      ) {
        // One snapshot write per aggregate at a time: the first one of a long history writes
        // many markers, and the commands meanwhile would each start the same writes again.
        snapshotting.add(aggregateId);
        keep(newest);
        await saveSnapshot(
          { aggregateId, snapshotKey, version: newest.version, state: newest.state },
          // Every event between the snapshot read and the new one: those read, and those appended.
          newest.tail,
          { snapshots, events: store },
          snapshotBudgetMs,
          log,
          () => {
            snapshotting.delete(aggregateId);
            // The next command reads first, and finds the snapshot (or, if it failed, tries again).
            heads.delete(headKey);
          },
        );
      }
      return result;
    };

    /**
     * The first read. With a head: the events after it (and the marker past its snapshot).
     * Without one: the newest NEWEST_EVENTS_READ events: for an aggregate shorter than
     * that, the whole history (no snapshot, no marker: every commandId is among them). For a
     * longer one, the snapshot (beside the newest events when this runner already saw the
     * aggregate that long), then the events between the two and the commandId's marker, side
     * by side. The marker is read after the snapshot: a snapshot is stored after the markers of
     * the commands it covers.
     */
    const readFirst = async (tries: Tries) => {
      const head = heads.get(headKey);
      if (head) {
        // The events written since this runner last left it; a marker only for a commandId a
        // snapshot hides (as below: the head's snapshot was read after its markers).
        const [newer, record] = await within(
          Promise.all([
            store.load(aggregateId, { afterVersion: head.version }),
            head.base > 0 ? store.findCommand?.(aggregateId, commandId) : undefined,
          ]),
          tries,
        );
        const loaded = keep(readOn(aggregate, head, newer));
        seen.saw(aggregateId, loaded.version);
        return { loaded, record };
      }
      if (!snapshots || !snapshotKey) {
        return { loaded: await catchUp(loadedFrom(aggregate), tries), record: undefined };
      }
      const window = Math.max(1, Math.min(snapshotEvery, NEWEST_EVENTS_READ));
      const snapshotRead = () => readSnapshot(snapshots, aggregateId, snapshotKey, log);
      const newestRead = store.load(aggregateId, { newest: window });
      const knownLong = seen.get(aggregateId) >= window;
      const [early, newest] = await within(
        Promise.all([knownLong ? snapshotRead() : undefined, newestRead]),
        tries,
      );
      const whole = newest.length < window;
      const snapshot = whole ? undefined : (early ?? (await within(snapshotRead(), tries)));
      const base = snapshot?.version ?? 0;
      const oldest = newest[0]?.version ?? base + 1;
      const [between, record] = await within(
        Promise.all([
          oldest > base + 1
            ? store.load(aggregateId, { afterVersion: base, toVersion: oldest - 1 })
            : [],
          base > 0 ? store.findCommand?.(aggregateId, commandId) : undefined,
        ]),
        tries,
      );
      const tail = [...between, ...newest.filter((e) => e.version > base)];
      const loaded = keep(readOn(aggregate, loadedFrom(aggregate, snapshot), tail));
      seen.saw(aggregateId, loaded.version);
      if (loaded.tail.length >= snapshotEvery) {
        log?.info('Long read: no usable snapshot', {
          aggregateId,
          snapshotKey,
          fromVersion: loaded.base,
          events: loaded.tail.length,
        });
      }
      return { loaded, record };
    };

    let loaded = loadedFrom(aggregate);
    for (let tries: Tries = { attempts: 1, slowestAttemptMs: 0 }; ;) {
      const started = Date.now();
      // A retry reads on from what the attempts before it read (events are immutable).
      let record: CommandRecord | undefined;
      if (tries.attempts === 1) ({ loaded, record } = await readFirst(tries));
      else loaded = await catchUp(loaded, tries);
      // Before any answer that shows the state (a replay included): never reveal what the
      // caller may not read.
      assertMayRead(aggregate, loaded, input.aggregateId, context.actor);
      const replay = record
        ? await replayOfRecord(record, loaded, tries)
        : replayOfEventsRead(loaded, tries);
      if (replay) {
        return answer(replay, loaded);
      }

      const { events, after, result } = decideOn(
        aggregate,
        loaded,
        input,
        payload,
        hash,
        context,
        tries.attempts - 1,
      );
      if (events.length === 0) return answer(result, loaded);
      let failure: unknown;
      try {
        await within(append(events, after), tries, true);
        return await answer(result, keep(appended(loaded, events, after.state)));
      } catch (error) {
        failure = error;
      }

      const kind = appendFailure(failure, input.expectedVersion);
      switch (kind) {
        case 'conflict': {
          // The winner may be this very command sent twice at once: answer as a replay.
          loaded = await catchUp(loaded, tries);
          const winner = replayOfEventsRead(loaded, tries);
          if (winner) return winner;
          throw failure;
        }
        case 'final':
          throw failure;
        case 'raced':
          break;
        default: {
          const unhandled: never = kind;
          throw new Error(`Unhandled append failure ${String(unhandled)}`);
        }
      }
      // A lost race: a VersionConflictError or a TransactionConflictError.
      const { code } = failure as AppError;
      const slowestAttemptMs = Math.max(tries.slowestAttemptMs, Date.now() - started);
      const next = afterLostRace({
        attempts: tries.attempts,
        slowestAttemptMs,
        now: Date.now(),
        deadline: context.deadline,
        policy: retry,
      });
      if (next.kind === 'give-up') throw failure;
      if (next.kind === 'deadline') {
        throw new CommandDeadlineError(aggregateId, tries.attempts, false, code);
      }
      await sleep(next.delayMs);
      tries = { attempts: tries.attempts + 1, slowestAttemptMs, lastError: code };
    }
  };
};

export type CommandRunner = ReturnType<typeof createCommandRunner>;
