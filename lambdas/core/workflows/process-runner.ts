/**
 * Runs the declared process managers (./process-manager.ts) from the event table's stream and
 * from their timers. Per event a process reacts to:
 *
 * 1. The process's record is read: its state, the checkpoint of its source aggregate (the last
 *    version it handled) and a step in flight, if a run stopped half way.
 * 2. `react` gives the next state and the commands to send; they are sent (commandIds derived
 *    from the event and the step), and their outcomes, refusals included, are the next input.
 *    After each step that sent commands the record is written (state, the step reached, its
 *    outcomes): "send, then checkpoint". A crash between two steps resumes at the step it
 *    reached, with the outcomes it saw, so a refusal is never re-decided differently.
 * 3. When a step sends nothing, the record is written with the event's version as checkpoint.
 *
 * A redelivered event at or below the checkpoint does nothing. A failure (a command that could
 * not run, a write that lost a race) fails the event's record and those after it for its
 * aggregate (retried by the stream, then dead-lettered like the projector's). Records are
 * stored in the projections table, under `process:<name>@v<version>#<key>`, with a revision
 * and a conditional write, as a projection's rows are.
 */
import type { EventStore } from '../events/event-store';
import { deliveredRun } from '../events/delivered-run';
import { type EventAction, isOwnEvent, type StoredEvent, toAction } from '../events/events';
import { eventsByAggregate, type IncomingRecord } from '../projections/projector';
import {
  type ProjectionRowStore,
  StaleRowError,
  type StoredRow,
} from '../projections/row-projection';
import type { Log } from '../shared/log';
import type { Principal } from '../identity/principal';
import {
  advanceProcessSource,
  type AnyProcessManager,
  checkProcessManagers,
  type CommandOutcome,
  MAX_STEPS_PER_INPUT,
  type ProcessCommand,
  processActor,
  type ProcessInput,
} from './process-manager';
import { processCommandId } from './process-command-id';

/** What a process's record holds (the stored row's `view`). */
export interface ProcessRecord<State = unknown> {
  readonly state: State | undefined;
  /**
   * Per trigger whose steps did not all run (a crash between two): the step reached and the
   * commands it was about to send. The next delivery of that trigger resumes there; other
   * triggers (a timer) run meanwhile on `state`.
   */
  readonly pending: Readonly<
    Record<string, { readonly step: number; readonly send: readonly ProcessCommand[] }>
  >;
  /** The ids of the timers that have fired (the latest ones): a timer fires once. */
  readonly timersFired: readonly string[];
  /** Its last JOURNAL_LENGTH steps, oldest first: why it is where it is, and time travel. */
  readonly journal: readonly JournalEntry[];
}

/** What a process reacted to, as its journal shows it (events and outcomes, summarised). */
export type JournalInput =
  | {
      readonly kind: 'event';
      readonly type: string;
      readonly aggregateId: string;
      readonly version: number;
      readonly eventId: string;
    }
  | {
      readonly kind: 'outcomes';
      readonly outcomes: readonly {
        readonly type: string;
        readonly aggregateId: string;
        readonly accepted: boolean;
        /** The refusal's rule (`details.rule`), else its code. */
        readonly refusal?: string;
      }[];
    }
  | { readonly kind: 'timer'; readonly name: string };

/** One step of a process: when, what it reacted to, its state after, and what it asked for. */
export interface JournalEntry {
  readonly at: string;
  readonly trigger: string;
  readonly input: JournalInput;
  readonly state: unknown;
  readonly sent: readonly { readonly type: string; readonly aggregateId: string }[];
  readonly timer?: { readonly name: string; readonly dueAt: string };
}

/** Steps a record's journal keeps (the oldest are dropped): its time travel reaches this far back. */
export const JOURNAL_LENGTH = 50;

const journalInputOf = (input: ProcessInput): JournalInput => {
  switch (input.kind) {
    case 'event':
      return {
        kind: 'event',
        type: input.event.type,
        aggregateId: input.event.meta.aggregateId,
        version: input.event.meta.version,
        eventId: input.event.meta.eventId,
      };
    case 'outcomes':
      return {
        kind: 'outcomes',
        outcomes: input.outcomes.map((o) => ({
          type: o.command.type,
          aggregateId: o.command.aggregateId,
          accepted: o.accepted,
          ...(!o.accepted && { refusal: String(o.error.details.rule ?? o.error.code) }),
        })),
      };
    case 'timer':
      return { kind: 'timer', name: input.name };
  }
};

/** The journal entry as of `at` (the last step at or before it), or undefined. */
export const journalAsOf = (record: ProcessRecord, at: string): JournalEntry | undefined =>
  [...record.journal].reverse().find((entry) => entry.at <= at);

/** How many fired timer ids a record remembers (a process sets few timers). */
const TIMERS_REMEMBERED = 50;

/** A timer a process set: due at `dueAt`, it wakes process `processKey` of `manager`. */
export interface ProcessTimer {
  /** Deterministic (what set it, and the step): setting it again is harmless. */
  readonly id: string;
  /** `<name>@v<version>` of the process manager. */
  readonly manager: string;
  readonly processKey: string;
  readonly name: string;
  /** ISO time. */
  readonly dueAt: string;
  readonly correlationId: string;
}

/** Where timers are kept until due (EventBridge Scheduler; locally the runtime). */
export interface TimerScheduler {
  /** Idempotent on `timer.id`. */
  schedule(timer: ProcessTimer): Promise<void>;
}

/** Sends one command as the process's actor and answers its outcome; throws when it could not run. */
export type SendCommand = (
  command: ProcessCommand,
  context: {
    readonly commandId: string;
    readonly correlationId: string;
    readonly causationId: string;
    readonly actor: Principal;
  },
) => Promise<CommandOutcome>;

export interface ProcessRunnerDependencies {
  readonly managers: readonly AnyProcessManager[];
  readonly rows: ProjectionRowStore;
  readonly events: EventStore;
  readonly send: SendCommand;
  readonly timers: TimerScheduler;
  readonly log: Log;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

export const managerId = (manager: Pick<AnyProcessManager, 'name' | 'version'>) =>
  `${manager.name}@v${manager.version}`;

/** The stored key of a process's record (beside the projections' rows, never colliding). */
export const processRecordKey = (manager: AnyProcessManager, processKey: string) =>
  `process:${managerId(manager)}#${processKey}`;

/** One thing a process reacts to, and where it came from. */
interface Trigger {
  /** `<aggregateId>@<version>` for an event, `timer:<id>` for a timer. */
  readonly id: string;
  readonly input: ProcessInput;
  readonly correlationId: string;
  /** The event's id, or the timer's: what the commands it leads to are caused by. */
  readonly causationId: string;
  /** For an event: its aggregate and version, the record's checkpoint once handled. */
  readonly checkpoint?: { readonly aggregateId: string; readonly version: number };
  readonly timerId?: string;
}

/** Aggregates of one batch whose processes run at once. */
export const AGGREGATES_AT_ONCE = 8;

/** Runs `work` on every item, at most `limit` at a time. */
const inBatches = async <T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** JSON only: DynamoDB stores no `undefined`, and a record must read back as it was written. */
const jsonClean = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export const createProcessRunner = (deps: ProcessRunnerDependencies) => {
  const { managers, rows } = deps;
  checkProcessManagers(managers);
  const now = deps.now ?? Date.now;
  const sourceTypes = new Set(managers.map((m) => m.source.type));
  /** Whether any manager reacts to `event` (its source's own event of a type it handles). */
  const reactsTo = (event: StoredEvent) =>
    managers.some((m) => m.eventTypes.includes(event.type) && isOwnEvent(m.source.type, event));

  /**
   * Runs `trigger` on one process to the end: react, then send and react to the outcomes until
   * a step sends nothing, writing the record before each send after the first (the state so far
   * and the commands about to go), then with the checkpoint.
   */
  const runTrigger = async (
    manager: AnyProcessManager,
    processKey: string,
    trigger: Trigger,
    log: Log,
  ): Promise<{ steps: number; sent: number }> => {
    const key = processRecordKey(manager, processKey);
    const stored = await rows.get(key);
    const found = stored?.view as ProcessRecord | undefined;
    const record: ProcessRecord = {
      state: found?.state,
      pending: found?.pending ?? {},
      timersFired: found?.timersFired ?? [],
      journal: found?.journal ?? [],
    };
    let journal = record.journal;
    const applied = { ...stored?.applied };
    const { checkpoint, timerId } = trigger;
    if (checkpoint && checkpoint.version <= (applied[checkpoint.aggregateId] ?? 0)) {
      return { steps: 0, sent: 0 };
    }
    if (timerId && record.timersFired.includes(timerId)) return { steps: 0, sent: 0 };
    // A timer of a process whose first step never got written (it failed, and waits for its
    // retry or redrive): not marked fired, so the timer that step sets again still counts.
    if (timerId && !stored) return { steps: 0, sent: 0 };
    let rev = stored?.rev ?? 0;
    const { [trigger.id]: resumed, ...othersPending } = record.pending;
    const save = async (view: ProcessRecord) => {
      const row: StoredRow = { key, view: jsonClean(view), applied, rev: rev + 1 };
      await rows.save(row, rev);
      rev += 1;
    };
    let state = record.state;
    let step = resumed?.step ?? 0;
    /** One react: the step, its timer set, and its journal entry. */
    const reactTo = async (input: ProcessInput) => {
      const next = manager.react(state, input);
      state = next.state;
      const at = new Date(now()).toISOString();
      let timer: JournalEntry['timer'];
      if (next.timer) {
        timer = {
          name: next.timer.name,
          dueAt: new Date(now() + next.timer.afterMs).toISOString(),
        };
        await deps.timers.schedule({
          id: `${managerId(manager)}#${processKey}#${trigger.id}#${step}`,
          manager: managerId(manager),
          processKey,
          ...timer,
          correlationId: trigger.correlationId,
        });
      }
      const send = next.send ?? [];
      journal = [
        ...journal,
        {
          at,
          trigger: trigger.id,
          input: journalInputOf(input),
          state,
          sent: send.map(({ type, aggregateId }) => ({ type, aggregateId })),
          ...(timer && { timer }),
        },
      ].slice(-JOURNAL_LENGTH);
      return send;
    };
    let commands: readonly ProcessCommand[];
    commands = resumed ? resumed.send : await reactTo(trigger.input);
    let sent = 0;
    while (commands.length > 0) {
      if (step >= MAX_STEPS_PER_INPUT) {
        throw new Error(`Process ${key} sent commands in ${MAX_STEPS_PER_INPUT} steps in a row`);
      }
      // Every send settles before a failure is reported: none is left running unseen.
      const settled = await Promise.allSettled(
        commands.map((command) =>
          deps.send(command, {
            commandId: processCommandId(manager, trigger.id, step, command.key),
            correlationId: trigger.correlationId,
            causationId: trigger.causationId,
            actor: processActor(manager),
          }),
        ),
      );
      const failure = settled.find((s) => s.status === 'rejected');
      if (failure) throw failure.reason;
      const outcomes = settled.map((s) => (s as PromiseFulfilledResult<CommandOutcome>).value);
      sent += commands.length;
      for (const outcome of outcomes) {
        log.info('Process sent a command', {
          processManager: manager.name,
          processKey,
          trigger: trigger.id,
          step,
          type: outcome.command.type,
          aggregateId: outcome.command.aggregateId,
          accepted: outcome.accepted,
          ...(!outcome.accepted && { refusal: outcome.error.details.rule ?? outcome.error.code }),
          correlationId: trigger.correlationId,
        });
      }
      step += 1;
      commands = await reactTo({ kind: 'outcomes', outcomes });
      if (commands.length > 0) {
        // Send, then checkpoint: a crash from here resumes with these very commands.
        await save({
          state,
          pending: { ...othersPending, [trigger.id]: { step, send: commands } },
          timersFired: record.timersFired,
          journal,
        });
      }
    }
    if (checkpoint) applied[checkpoint.aggregateId] = checkpoint.version;
    const timersFired = timerId
      ? [...record.timersFired, timerId].slice(-TIMERS_REMEMBERED)
      : record.timersFired;
    await save({ state, pending: othersPending, timersFired, journal });
    return { steps: step, sent };
  };

  /**
   * Every event of one aggregate up to `target`, in order, through every manager of its type:
   * each process takes the events above its checkpoint, so an earlier event it missed (one whose
   * batch was dead-lettered) runs before a later one, never skipped by it.
   */
  const runAggregate = async (
    aggregateId: string,
    target: number,
    delivered: readonly StoredEvent[],
    log: Log,
  ): Promise<{ failedFrom?: number; sent: number }> => {
    // No process reacts to any delivered event: nothing to run, so the log is not read (most
    // events of a long-lived aggregate; an earlier trigger left pending runs with the next one).
    if (!delivered.some((event) => reactsTo(event))) return { sent: 0 };
    // A batch that delivered the whole log (a new aggregate's first batch) is not read back.
    const history =
      deliveredRun(delivered, 0, target) ??
      (await deps.events.load(aggregateId, { toVersion: target }));
    const states = new Map(managers.map((m) => [m, m.source.initialState as unknown]));
    let sent = 0;
    for (const event of history) {
      const action: EventAction = toAction(event);
      for (const manager of managers) {
        if (!isOwnEvent(manager.source.type, event)) continue;
        const before = states.get(manager);
        states.set(manager, advanceProcessSource(manager, before, action));
        if (!manager.eventTypes.includes(event.type)) continue;
        const processKey = manager.processKey(action, before);
        if (processKey === undefined) continue;
        try {
          const outcome = await runTrigger(
            manager,
            processKey,
            {
              id: `${aggregateId}@${event.version}`,
              input: { kind: 'event', event: action, before },
              correlationId: event.correlationId,
              causationId: event.eventId,
              checkpoint: { aggregateId, version: event.version },
            },
            log,
          );
          sent += outcome.sent;
        } catch (error) {
          log.error('Process failed', {
            processManager: manager.name,
            processKey,
            aggregateId,
            version: event.version,
            error: message(error),
            ...(error instanceof StaleRowError && { reason: 'another run wrote its record first' }),
          });
          return { failedFrom: event.version, sent };
        }
      }
    }
    const reached = history.at(-1)?.version ?? 0;
    // A hole in the log: the missing event is not in the table yet (retried until it is).
    return reached < target ? { failedFrom: reached + 1, sent } : { sent };
  };

  /** The stream's records: what to retry (ReportBatchItemFailures), and the commands sent. */
  const handleRecords = async (
    records: readonly IncomingRecord[],
    log: Log = deps.log,
  ): Promise<{ failed: string[]; sent: number }> => {
    // aggregateId -> its events delivered: its log is run up to the highest.
    const groups = eventsByAggregate(records, sourceTypes, log);
    const failedFrom = new Map<string, number>();
    let sent = 0;
    // A few aggregates at a time: processes of many orders often send to the same aggregate
    // (a popular SKU), where more at once only means more version races.
    await inBatches([...groups], AGGREGATES_AT_ONCE, async ([aggregateId, delivered]) => {
      try {
        const to = Math.max(...delivered.map((e) => e.version));
        const outcome = await runAggregate(aggregateId, to, delivered, log);
        sent += outcome.sent;
        if (outcome.failedFrom !== undefined) failedFrom.set(aggregateId, outcome.failedFrom);
      } catch (error) {
        log.error('Process failed', { aggregateId, error: message(error) });
        failedFrom.set(aggregateId, 0);
      }
    });
    const failed = records.flatMap((r) =>
      'invalid' in r ||
      ('event' in r &&
        failedFrom.has(r.event.aggregateId) &&
        r.event.version >= failedFrom.get(r.event.aggregateId)!)
        ? [r.id]
        : [],
    );
    return { failed, sent };
  };

  /** A due timer: its process reacts to it once (a second delivery does nothing). */
  const fireTimer = async (timer: ProcessTimer, log: Log = deps.log) => {
    const manager = managers.find((m) => managerId(m) === timer.manager);
    if (!manager) {
      // A timer of a manager this deployment no longer runs: nothing can handle it.
      log.warn('Timer of an unknown process manager dropped', { ...timer });
      return { steps: 0, sent: 0 };
    }
    return runTrigger(
      manager,
      timer.processKey,
      {
        id: `timer:${timer.id}`,
        input: { kind: 'timer', name: timer.name },
        correlationId: timer.correlationId,
        causationId: timer.id,
        timerId: timer.id,
      },
      log,
    );
  };

  /** A process's record (tests, tools). */
  const recordOf = async (manager: AnyProcessManager, processKey: string) =>
    (await rows.get(processRecordKey(manager, processKey)))?.view as ProcessRecord | undefined;

  return { handleRecords, fireTimer, recordOf };
};

export type ProcessRunner = ReturnType<typeof createProcessRunner>;
