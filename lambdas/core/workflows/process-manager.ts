/**
 * Declared process managers: what turns events into commands. A process manager names the
 * aggregate whose events start and drive it, the event types it reacts to, the key of the
 * process an event belongs to (e.g. one process per order), and one pure `react` from its state
 * and an input (an event, the outcomes of the commands it last sent, or a timer it asked for) to
 * its next state, the commands to send and a timer to set. Nothing here knows about any domain:
 * a domain folder declares its process managers, and the deployment list names them.
 *
 * Exactly-once effect (docs/decisions/process-managers.md): every command a process sends has a
 * `commandId` derived from what triggered it (the event, or the timer) and the step, so running
 * a step again after a crash or a redelivered batch sends the same commands under the same ids,
 * and the command runner's idempotency answers them without writing anything new.
 */
import type { ReadRule } from '../identity/authorization';
import type { Principal } from '../identity/principal';
import type { EventAction } from '../events/events';

/** A command a process sends: `key` names it within its step (its commandId derives from it). */
export interface ProcessCommand {
  readonly key: string;
  readonly type: string;
  readonly aggregateId: string;
  readonly payload: Record<string, unknown>;
}

/** How a command a process sent went: accepted (its events appended), or refused by the domain. */
export type CommandOutcome =
  | {
      readonly command: ProcessCommand;
      readonly accepted: true;
      /** The aggregate's version after the command. */
      readonly version: number;
    }
  | {
      readonly command: ProcessCommand;
      readonly accepted: false;
      /** The refusal as the API answers it (`code`, e.g. RULE_VIOLATION; `details.rule`). */
      readonly error: {
        readonly code: string;
        readonly message: string;
        readonly details: Readonly<Record<string, unknown>>;
      };
    };

/** What a process reacts to. */
export type ProcessInput<SourceState = unknown> =
  /** An event of its source aggregate, with the aggregate's state before it. */
  | { readonly kind: 'event'; readonly event: EventAction; readonly before: SourceState }
  /** The outcomes of every command its previous step sent (a refusal is an outcome, not a failure). */
  | { readonly kind: 'outcomes'; readonly outcomes: readonly CommandOutcome[] }
  /** A timer it set is due. */
  | { readonly kind: 'timer'; readonly name: string };

/** One step of a process: its state after the input, and what it asks for. */
export interface ProcessStep<State> {
  readonly state: State;
  /** Sent at once, concurrently; their outcomes are the next step's input. @default none */
  readonly send?: readonly ProcessCommand[];
  /** Wake the process with `{ kind: 'timer', name }` after `afterMs`. @default none */
  readonly timer?: { readonly name: string; readonly afterMs: number };
}

export interface ProcessManager<State = unknown, SourceState = unknown> {
  /** URL-safe name, e.g. `order-fulfilment`: its storage, its actor, its commandIds. */
  readonly name: string;
  /** Bumped when the state's shape or meaning changes: a new version is new storage. */
  readonly version: number;
  /** The aggregate whose events drive it; its reducer gives the state before each event. */
  readonly source: {
    readonly type: string;
    readonly initialState: SourceState;
    /** The aggregate's own reducer (typed on its own events, hence `never` here). */
    readonly reducer: (state: SourceState, event: never) => SourceState;
  };
  /** The event types it reacts to; others only advance the source state. */
  readonly eventTypes: readonly string[];
  /** The process an event belongs to (its state's key), or undefined to ignore the event. */
  readonly processKey: (event: EventAction, before: SourceState) => string | undefined;
  /**
   * Pure: the next step. Called with `undefined` for a process that has no state yet. A step
   * that sends commands is followed by one with their outcomes, until a step sends nothing.
   */
  readonly react: (
    state: State | undefined,
    input: ProcessInput<SourceState>,
  ) => ProcessStep<State>;
  /**
   * Who may read a process: its state and journal (`GET /processes/{name}/{key}`). A caller it
   * refuses gets 404, as for a missing process. @default admins only
   */
  readonly canRead?: ReadRule<State | undefined>;
  /** What a process key may look like in that route (checked before any read). */
  readonly keyPattern: RegExp;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProcessManager = ProcessManager<any, any>;

/** Steps one input may lead to: a process that keeps sending is a bug, not a workflow. */
export const MAX_STEPS_PER_INPUT = 10;

/** Who a process's commands run as: an admin, named after the process manager. */
export const processActor = (manager: Pick<ProcessManager, 'name'>): Principal => ({
  subject: `process:${manager.name}`,
  roles: ['admin'],
});

/** The source state after `event` (the source reducer, called on a stored event). */
export const advanceProcessSource = (
  manager: AnyProcessManager,
  state: unknown,
  event: EventAction,
): unknown => (manager.source.reducer as (s: unknown, e: EventAction) => unknown)(state, event);

/** Refuses a bad declaration at cold start (names are storage and URL segments). */
export const checkProcessManagers = (managers: readonly AnyProcessManager[]): void => {
  const seen = new Set<string>();
  for (const m of managers) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(m.name)) {
      throw new Error(`Process manager name '${m.name}' must be 1-63 of a-z, 0-9 and -`);
    }
    if (!Number.isSafeInteger(m.version) || m.version < 1) {
      throw new Error(`Process manager ${m.name}: version must be a positive integer`);
    }
    const id = `${m.name}@v${m.version}`;
    if (seen.has(id)) throw new Error(`Process manager ${id} is declared twice`);
    seen.add(id);
    if (m.eventTypes.length === 0) throw new Error(`Process manager ${m.name} reacts to nothing`);
  }
};
