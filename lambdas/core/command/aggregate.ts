/**
 * An aggregate is a Redux reducer over its own past events plus a pure `decide`.
 * Nothing here knows about any particular domain.
 */
import type { Reducer } from 'redux';
import type { ZodType } from 'zod';
import type { CommandRule, ReadRule } from '../identity/authorization';
import type { Principal } from '../identity/principal';
import {
  type EventAction,
  type EventActionOf,
  isOwnEvent,
  type NewEvent,
  type StoredEvent,
  toAction,
} from '../events/events';

/** A command: an imperative intent, FSA-shaped. */
export interface Command<Type extends string = string, Payload = unknown> {
  readonly type: Type;
  readonly payload: Payload;
}

/** What `decide` may know besides state and command: values stamped by the edge. */
export interface DecideContext {
  readonly aggregateId: string;
  /** The version the state was folded to (0 = no events yet). */
  readonly version: number;
  readonly now: string;
  /** Who runs the command (verified by the gateway); `authorize` has already allowed it. */
  readonly actor: Principal;
}

export interface AggregateDefinition<State, C extends Command, E extends NewEvent> {
  /** Stored on every event; also the prefix of this aggregate's command and event types. */
  readonly type: string;
  readonly initialState: State;
  readonly reducer: Reducer<State, EventActionOf<E>>;
  /** Pure: returns the events the command produces, or throws an AppError (rule, not found...). */
  readonly decide: (state: State, command: C, context: DecideContext) => readonly E[];
  /**
   * Who may read the aggregate's state: its view's rows, `/events`, `/history` and `?asOf`
   * builds. A caller it refuses gets 404, as if the aggregate did not exist.
   */
  readonly canRead: ReadRule<State>;
  /**
   * Pure, beside `decide`: the rule (a code, as in `details.rule`) that forbids this principal
   * the command on this state, or `undefined` when allowed. Runs after `canRead` (a caller who
   * may not read the state gets 404, never 403) and before `decide`, on the server and in the
   * client's optimistic prediction.
   */
  readonly authorize: CommandRule<State, C>;
  /** What each rule code `authorize` returns means: the message of the 403 answer. */
  readonly permissions: Readonly<Record<string, string>>;
  /**
   * Bump it whenever the state the reducer builds changes meaning (a helper it calls, a new
   * field): snapshots taken under another version are ignored. A hash of the reducer's own
   * source and initial state is part of the key too, but cannot see the helpers it calls.
   * @default 1
   */
  readonly snapshotVersion?: number;
  /** Runtime schema of every command this aggregate accepts, keyed by command type. */
  readonly commandSchemas: {
    readonly [K in C['type']]: ZodType<Extract<C, { type: K }>['payload']>;
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAggregate = AggregateDefinition<any, any, any>;

export const foldEvents = <State>(
  aggregate: Pick<AggregateDefinition<State, Command, NewEvent>, 'initialState' | 'reducer'>,
  actions: readonly EventAction[],
  from: State = aggregate.initialState,
): State => actions.reduce<State>((state, action) => aggregate.reducer(state, action), from);

/**
 * The aggregate's state from stored events (its history, or a prefix of it). Foreign events in
 * its partition (not its own: see isOwnEvent; the API never writes them) change nothing, but
 * still count as versions: the caller takes the version from the log.
 */
export const foldOwnEvents = (
  aggregate: AnyAggregate,
  history: readonly StoredEvent[],
  from: unknown = aggregate.initialState,
): unknown =>
  foldEvents(aggregate, history.filter((e) => isOwnEvent(aggregate.type, e)).map(toAction), from);
