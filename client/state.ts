/**
 * The client's Redux slice: the confirmed view of every aggregate it knows (with its version),
 * the outbox of pending commands, each command's status, and online/sender flags. Pure:
 * actions, reducer, selectors. The view a component reads is derived: confirmed state + pending
 * commands run through the server's own `decide` and reducer, those of the aggregate the
 * command names (any aggregate of the deployment: client/aggregates.ts). A rejection removes
 * the command; nothing is rolled back.
 */
import type { Action, UnknownAction } from 'redux';
import type { AppError } from '../lambdas/core/shared/errors';
import { decodeStoredEvent } from '../lambdas/core/events/event-codec';
import { type EventAction, type StoredEvent, toAction } from '../lambdas/core/events/events';
import {
  aggregateOfCommand,
  aggregateOfType,
  type ClientAggregate,
  type DeploymentCommand,
  type DeploymentView,
  visibleIn,
} from './aggregates';
import type { ApiErrorCode } from './api';

/** One pending command, as persisted in the outbox (one record per command). */
export interface OutboxEntry {
  readonly commandId: string;
  /** Dispatch order across the outbox (and across tabs sharing it); sends follow it per aggregate. */
  readonly seq: number;
  readonly aggregateId: string;
  readonly type: DeploymentCommand['type'];
  readonly payload: DeploymentCommand['payload'];
  readonly expectedVersion?: number;
  /** When it was dispatched (ISO): the `now` of its optimistic decision. */
  readonly issuedAt: string;
  /** Sends that got no final answer so far. */
  readonly attempts: number;
  /** When it was first sent (ISO): resends stop `maxPendingMs` later (client/retry-policy.ts). */
  readonly firstSentAt?: string;
}

/** What the client knows for sure about an aggregate: the server's view at `version`. */
export interface ConfirmedView {
  readonly version: number;
  /** `null` when the aggregate does not exist or is deleted. */
  readonly view: DeploymentView | null;
}

export interface CommandRejection {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly details: Record<string, unknown>;
  /** A 409 on a command sent with `expectedVersion`: someone else changed the aggregate first. */
  readonly conflict: boolean;
}

export type CommandStatus =
  | {
      readonly state: 'pending';
      readonly aggregateId: string;
      readonly type: string;
      readonly attempts: number;
      /** The last transient failure (network, timeout, 5xx), if any. */
      readonly lastError?: string;
    }
  | {
      readonly state: 'confirmed';
      readonly aggregateId: string;
      readonly type: string;
      readonly version: number;
      readonly replayed: boolean;
    }
  | ({
      readonly state: 'rejected';
      readonly aggregateId: string;
      readonly type: string;
    } & CommandRejection)
  | {
      /**
       * Resent for `maxPendingMs` with no final answer: it may or may not have been applied (a
       * send whose answer was lost). It left the outbox; the aggregate's view was re-read.
       */
      readonly state: 'unknown';
      readonly aggregateId: string;
      readonly type: string;
      readonly attempts: number;
      readonly lastError?: string;
    };

export interface ClientState {
  /** The last network evidence: browser events, failed sends, answers. */
  readonly online: boolean;
  /** This client (tab) holds the sender lock. */
  readonly sending: boolean;
  /** By aggregate id (ids are unique across aggregate types: one event log per id). */
  readonly confirmed: Readonly<Record<string, ConfirmedView>>;
  /** Pending commands in dispatch (`seq`) order. */
  readonly outbox: readonly OutboxEntry[];
  readonly commands: Readonly<Record<string, CommandStatus>>;
  /** Live updates: the aggregates this client follows over the WebSocket. */
  readonly live: LiveState;
}

export interface LiveState {
  /** The socket is open (each subscription's `status` says whether the server confirmed it). */
  readonly connected: boolean;
  /**
   * Followed ids, each with its collection and the last version a push or resync brought (`0`
   * before any).
   */
  readonly subscriptions: Readonly<Record<string, LiveSubscription>>;
  /**
   * Server states held back while the aggregate has pending commands: such a state may already
   * contain one of them, and folding the outbox on top would apply it twice. Released into
   * `confirmed` once the aggregate's outbox is empty.
   */
  readonly held: Readonly<Record<string, ConfirmedView>>;
}

export interface LiveSubscription {
  /** The collection the id is followed in (e.g. `orders`, `shopping-lists`). */
  readonly collection: string;
  readonly lastVersion: number;
  /**
   * `pending` until the server acknowledges it on the current socket (and while no socket is
   * open), `confirmed` once it did (the row was resynced from then), `failed` when the server
   * answered an error or the socket closed before the acknowledgement (`error` says which; the
   * next connection tries again).
   */
  readonly status: LiveSubscriptionStatus;
  readonly error?: LiveSubscriptionError;
}

export type LiveSubscriptionStatus = 'pending' | 'confirmed' | 'failed';

/** Why a subscription failed: the server's error (`NOT_FOUND`, ...) or `CONNECTION_CLOSED`. */
export interface LiveSubscriptionError {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

export const initialClientState: ClientState = {
  online: true,
  sending: false,
  confirmed: {},
  outbox: [],
  commands: {},
  live: { connected: false, subscriptions: {}, held: {} },
};

// ---- actions ---------------------------------------------------------------------------------

/** Dispatch this to send a command; the middleware answers with a promise of its outcome. */
export interface SendCommandAction extends Action<'command/send'> {
  readonly payload: DeploymentCommand & {
    readonly aggregateId: string;
    readonly expectedVersion?: number;
  };
}

export interface CommandQueuedAction extends Action<'command/queued'> {
  readonly payload: OutboxEntry;
}
export interface CommandRetryingAction extends Action<'command/retrying'> {
  readonly payload: {
    readonly commandId: string;
    readonly attempts: number;
    readonly error: string;
    readonly firstSentAt?: string;
  };
}
export interface CommandConfirmedAction extends Action<'command/confirmed'> {
  readonly payload: {
    readonly commandId: string;
    readonly aggregateId: string;
    readonly version: number;
    /** The events the command produced (decoupled and coupled answers both carry them). */
    readonly events: readonly StoredEvent[];
    /** Coupled answer: the row as the server stored it (`null` once deleted). */
    readonly view?: DeploymentView | null;
    readonly replayed: boolean;
  };
}
export interface CommandRejectedAction extends Action<'command/rejected'> {
  readonly payload: { readonly commandId: string; readonly aggregateId: string } & CommandRejection;
}
/** Given up after `maxPendingMs` of resends: its outcome is unknown (client/retry-policy.ts). */
export interface CommandUnknownAction extends Action<'command/unknown'> {
  readonly payload: { readonly commandId: string; readonly aggregateId: string };
}
/** The outbox as read from storage (start, reload, another tab's change): replaces the outbox. */
export interface OutboxRestoredAction extends Action<'outbox/restored'> {
  readonly payload: { readonly entries: readonly OutboxEntry[] };
}
/** A server view from a query (`GET /{collection}/{id}`, a list, /history at the latest). */
export interface ViewLoadedAction extends Action<'view/loaded'> {
  readonly payload: ConfirmedView & { readonly id: string };
}
export interface ConnectionChangedAction extends Action<'connection/changed'> {
  readonly payload: { readonly online: boolean };
}
export interface SenderChangedAction extends Action<'sender/changed'> {
  readonly payload: { readonly sending: boolean };
}

/** Follow an aggregate over the WebSocket (the live client subscribes and resyncs it). */
export interface LiveSubscribeAction extends Action<'live/subscribe'> {
  readonly payload: { readonly collection: string; readonly id: string };
}
export interface LiveUnsubscribeAction extends Action<'live/unsubscribe'> {
  readonly payload: { readonly id: string };
}
export interface LiveConnectionAction extends Action<'live/connection'> {
  readonly payload: { readonly connected: boolean };
}
/** Where a subscription stands on the socket (the live client dispatches it). */
export interface LiveSubscriptionStatusAction extends Action<'live/status'> {
  readonly payload: {
    readonly id: string;
    readonly collection: string;
    readonly status: LiveSubscriptionStatus;
    readonly error?: LiveSubscriptionError;
  };
}
/** A server view that a push (inline row, or the row fetched after a poke) or a resync brought. */
export interface ViewPushedAction extends Action<'view/pushed'> {
  readonly payload: ConfirmedView & { readonly id: string };
}

export type ClientAction =
  | LiveSubscribeAction
  | LiveUnsubscribeAction
  | LiveConnectionAction
  | LiveSubscriptionStatusAction
  | ViewPushedAction
  | CommandQueuedAction
  | CommandRetryingAction
  | CommandConfirmedAction
  | CommandRejectedAction
  | CommandUnknownAction
  | OutboxRestoredAction
  | ViewLoadedAction
  | ConnectionChangedAction
  | SenderChangedAction;

/** The action that sends a command: `dispatch(sendCommand({ type, aggregateId, payload }))`. */
export const sendCommand = (command: SendCommandAction['payload']): SendCommandAction => ({
  type: 'command/send',
  payload: command,
});

// Typed as UnknownAction too, so a plain store's dispatch and the reducer both take them.

/** Feeds a queried row into the confirmed state (older versions than known are ignored). */
export const viewLoaded = (view: DeploymentView): ViewLoadedAction & UnknownAction => ({
  type: 'view/loaded',
  payload: { id: view.id, version: view.version, view },
});

/** Follow `id` of `collection` (e.g. `subscribeTo('shopping-lists', id)`). */
export const subscribeTo = (
  collection: string,
  id: string,
): LiveSubscribeAction & UnknownAction => ({
  type: 'live/subscribe',
  payload: { collection, id },
});
export const unsubscribeFrom = (id: string): LiveUnsubscribeAction & UnknownAction => ({
  type: 'live/unsubscribe',
  payload: { id },
});

export const isSendCommand = (action: unknown): action is SendCommandAction =>
  typeof action === 'object' &&
  action !== null &&
  (action as { type?: unknown }).type === 'command/send';

// ---- reducer ---------------------------------------------------------------------------------

/** The confirmed state after an answer; `undefined` when the events do not follow what we know. */
export const confirmAnswer = (
  known: ConfirmedView | undefined,
  answer: CommandConfirmedAction['payload'],
): ConfirmedView | undefined => {
  const from = known ?? { version: 0, view: null };
  // An answer at or below what is known (a replay, a slow answer) never moves the view back.
  if (answer.version <= from.version) return from;
  if (answer.view !== undefined) return { version: answer.version, view: answer.view };
  const first = answer.events[0];
  if (!first || first.version !== from.version + 1) return undefined;
  const aggregate = aggregateOfType(first.aggregateType);
  if (!aggregate) return undefined;
  const folded = answer.events.reduce<unknown>(
    // Through the one event codec: an event of an older schema is upcast before it is folded.
    (state, event) => aggregate.reducer(state, toAction(decodeStoredEvent(event))),
    from.view ?? aggregate.initialState,
  );
  return { version: answer.version, view: visibleIn(aggregate, folded) };
};

const withoutCommand = (outbox: readonly OutboxEntry[], commandId: string) =>
  outbox.filter((e) => e.commandId !== commandId);

const bySeq = (a: OutboxEntry, b: OutboxEntry) => a.seq - b.seq;

/** Moves held server states into `confirmed` for aggregates whose outbox is now empty. */
const releaseHeld = (state: ClientState): ClientState => {
  const ids = Object.keys(state.live.held);
  if (ids.length === 0) return state;
  const held = { ...state.live.held };
  let confirmed = state.confirmed;
  for (const id of ids) {
    if (state.outbox.some((e) => e.aggregateId === id)) continue;
    const candidate = held[id]!;
    delete held[id];
    if ((confirmed[id]?.version ?? 0) < candidate.version)
      confirmed = { ...confirmed, [id]: candidate };
  }
  if (Object.keys(held).length === ids.length) return state;
  return { ...state, confirmed, live: { ...state.live, held } };
};

const withLastVersion = (live: LiveState, id: string, version: number): LiveState => {
  const current = live.subscriptions[id];
  if (!current || current.lastVersion >= version) return live;
  return {
    ...live,
    subscriptions: { ...live.subscriptions, [id]: { ...current, lastVersion: version } },
  };
};

export const clientReducer = (
  state: ClientState = initialClientState,
  action: UnknownAction,
): ClientState => {
  const next = reduce(state, action);
  return next === state ? state : releaseHeld(next);
};

const reduce = (state: ClientState, action: UnknownAction): ClientState => {
  const a = action as unknown as ClientAction;
  switch (a.type) {
    case 'command/queued': {
      if (state.outbox.some((e) => e.commandId === a.payload.commandId)) return state;
      if (state.commands[a.payload.commandId]?.state === 'confirmed') return state;
      return {
        ...state,
        outbox: [...state.outbox, a.payload].sort(bySeq),
        commands: {
          ...state.commands,
          [a.payload.commandId]: {
            state: 'pending',
            aggregateId: a.payload.aggregateId,
            type: a.payload.type,
            attempts: a.payload.attempts,
          },
        },
      };
    }
    case 'command/retrying': {
      const current = state.commands[a.payload.commandId];
      if (current?.state !== 'pending') return state;
      return {
        ...state,
        outbox: state.outbox.map((e) =>
          e.commandId === a.payload.commandId
            ? {
                ...e,
                attempts: a.payload.attempts,
                ...(a.payload.firstSentAt !== undefined && { firstSentAt: a.payload.firstSentAt }),
              }
            : e,
        ),
        commands: {
          ...state.commands,
          [a.payload.commandId]: {
            ...current,
            attempts: a.payload.attempts,
            lastError: a.payload.error,
          },
        },
      };
    }
    case 'command/confirmed': {
      const { commandId, aggregateId } = a.payload;
      const entry = state.outbox.find((e) => e.commandId === commandId);
      const known = state.confirmed[aggregateId];
      const next = confirmAnswer(known, a.payload);
      return {
        ...state,
        online: true,
        outbox: withoutCommand(state.outbox, commandId),
        // A gap (events we never saw) leaves the confirmed state as is; the middleware re-reads.
        confirmed:
          next === undefined ? state.confirmed : { ...state.confirmed, [aggregateId]: next },
        commands: {
          ...state.commands,
          [commandId]: {
            state: 'confirmed',
            aggregateId,
            type: entry?.type ?? state.commands[commandId]?.type ?? '',
            version: a.payload.version,
            replayed: a.payload.replayed,
          },
        },
      };
    }
    case 'command/rejected': {
      const { commandId, aggregateId, ...rejection } = a.payload;
      const entry = state.outbox.find((e) => e.commandId === commandId);
      return {
        ...state,
        online: true,
        outbox: withoutCommand(state.outbox, commandId),
        commands: {
          ...state.commands,
          [commandId]: {
            state: 'rejected',
            aggregateId,
            type: entry?.type ?? state.commands[commandId]?.type ?? '',
            ...rejection,
          },
        },
      };
    }
    case 'command/unknown': {
      const { commandId, aggregateId } = a.payload;
      const current = state.commands[commandId];
      const entry = state.outbox.find((e) => e.commandId === commandId);
      return {
        ...state,
        outbox: withoutCommand(state.outbox, commandId),
        commands: {
          ...state.commands,
          [commandId]: {
            state: 'unknown',
            aggregateId,
            type: entry?.type ?? current?.type ?? '',
            attempts: entry?.attempts ?? 0,
            ...(current?.state === 'pending' &&
              current.lastError !== undefined && { lastError: current.lastError }),
          },
        },
      };
    }
    case 'outbox/restored': {
      // The shared storage is the truth for what is pending (another tab may have settled some);
      // commands already settled here keep their status.
      const entries = a.payload.entries.filter((e) => {
        const settled = state.commands[e.commandId]?.state;
        return settled === undefined || settled === 'pending';
      });
      const commands = { ...state.commands };
      for (const e of entries) {
        const current = commands[e.commandId];
        commands[e.commandId] = {
          state: 'pending',
          aggregateId: e.aggregateId,
          type: e.type,
          attempts: e.attempts,
          ...(current?.state === 'pending' &&
            current.lastError !== undefined && { lastError: current.lastError }),
        };
      }
      return { ...state, outbox: [...entries].sort(bySeq), commands };
    }
    case 'view/loaded': {
      const known = state.confirmed[a.payload.id];
      if (known && known.version >= a.payload.version) return state;
      return {
        ...state,
        confirmed: {
          ...state.confirmed,
          [a.payload.id]: { version: a.payload.version, view: a.payload.view },
        },
      };
    }
    case 'live/subscribe': {
      const { collection, id } = a.payload;
      if (state.live.subscriptions[id]?.collection === collection) return state;
      const lastVersion = state.confirmed[id]?.version ?? 0;
      return {
        ...state,
        live: {
          ...state.live,
          subscriptions: {
            ...state.live.subscriptions,
            [id]: { collection, lastVersion, status: 'pending' },
          },
        },
      };
    }
    case 'live/unsubscribe': {
      if (!state.live.subscriptions[a.payload.id]) return state;
      const subscriptions = { ...state.live.subscriptions };
      delete subscriptions[a.payload.id];
      return { ...state, live: { ...state.live, subscriptions } };
    }
    case 'live/status': {
      const { id, collection, status, error } = a.payload;
      const current = state.live.subscriptions[id];
      if (current?.collection !== collection) return state;
      if (current.status === status && current.error === error) return state;
      const next: LiveSubscription = {
        collection,
        lastVersion: current.lastVersion,
        status,
        ...(error && { error }),
      };
      const subscriptions = { ...state.live.subscriptions, [id]: next };
      return { ...state, live: { ...state.live, subscriptions } };
    }
    case 'live/connection':
      return a.payload.connected === state.live.connected
        ? state
        : { ...state, live: { ...state.live, connected: a.payload.connected } };
    case 'view/pushed': {
      const { id, version } = a.payload;
      const candidate = { version, view: a.payload.view };
      const live = withLastVersion(state.live, id, version);
      const known = Math.max(state.confirmed[id]?.version ?? 0, state.live.held[id]?.version ?? 0);
      if (version <= known) return live === state.live ? state : { ...state, live };
      // With pending commands the state may include one of them: hold it until they settle.
      if (state.outbox.some((e) => e.aggregateId === id))
        return { ...state, live: { ...live, held: { ...live.held, [id]: candidate } } };
      return { ...state, live, confirmed: { ...state.confirmed, [id]: candidate } };
    }
    case 'connection/changed':
      return a.payload.online === state.online ? state : { ...state, online: a.payload.online };
    case 'sender/changed':
      return a.payload.sending === state.sending ? state : { ...state, sending: a.payload.sending };
    default:
      return state;
  }
};

// ---- optimistic view -------------------------------------------------------------------------

/** What a pending command does to the view: its events, or the rule that would reject it. */
export interface PendingOutcome {
  readonly commandId: string;
  readonly events: readonly EventAction[];
  /** The shared `decide` refuses it on the optimistic state; the server decides for real. */
  readonly wouldReject?: { readonly code: string; readonly message: string };
}

export interface OptimisticView<View = DeploymentView> {
  readonly view: View | null;
  /** The version the aggregate reaches once every pending command is applied as predicted. */
  readonly version: number;
  readonly confirmedVersion: number;
  readonly pending: readonly PendingOutcome[];
}

/** One pending command through its aggregate's `decide` and reducer (throws its AppError). */
const predict = (
  aggregate: ClientAggregate,
  state: unknown,
  version: number,
  entry: OutboxEntry,
): EventAction[] => {
  const { aggregateId, issuedAt, commandId } = entry;
  const decided = aggregate.decide(
    state,
    { type: entry.type, payload: entry.payload },
    { aggregateId, version, now: issuedAt },
  );
  return decided.map((event, i) => ({
    type: event.type,
    payload: event.payload,
    meta: {
      aggregateId,
      version: version + i + 1,
      occurredAt: issuedAt,
      eventId: `${commandId}:${i}`,
      correlationId: commandId,
    },
  }));
};

/**
 * Confirmed state + pending commands through the `decide` and reducer of the aggregate each
 * command names (its type's prefix). Time and event ids are stamped here, as the server's edge
 * does: `now` is the command's dispatch time.
 */
export const optimisticView = (
  confirmed: ConfirmedView | undefined,
  pending: readonly OutboxEntry[],
): OptimisticView => {
  let state: unknown = confirmed?.view ?? null;
  let version = confirmed?.version ?? 0;
  let shownBy: ClientAggregate | undefined;
  const outcomes: PendingOutcome[] = [];
  for (const entry of pending) {
    const aggregate = aggregateOfCommand(entry.type);
    try {
      if (!aggregate) {
        throw Object.assign(new Error(`No aggregate handles ${entry.type}`), {
          code: 'UNKNOWN_COMMAND_TYPE',
        });
      }
      const events = predict(aggregate, state ?? aggregate.initialState, version, entry);
      state = events.reduce<unknown>(
        (s, e) => aggregate.reducer(s, e),
        state ?? aggregate.initialState,
      );
      version += events.length;
      shownBy = aggregate;
      outcomes.push({ commandId: entry.commandId, events });
    } catch (error) {
      const appError = error as Partial<AppError>;
      outcomes.push({
        commandId: entry.commandId,
        events: [],
        wouldReject: {
          code: String(appError.code ?? 'INTERNAL'),
          message: appError.message ?? String(error),
        },
      });
    }
  }
  return {
    view: shownBy ? visibleIn(shownBy, state) : ((state as DeploymentView | null) ?? null),
    version,
    confirmedVersion: confirmed?.version ?? 0,
    pending: outcomes,
  };
};

// ---- selectors (memoized per slice state, so components re-render only on change) -----------

const cache = new WeakMap<ClientState, Map<string, OptimisticView>>();

export const selectPendingCommands = (state: ClientState, aggregateId?: string) =>
  aggregateId === undefined
    ? state.outbox
    : state.outbox.filter((e) => e.aggregateId === aggregateId);

/**
 * The view of `aggregateId` with its pending commands applied, plus what each pending command
 * does. `View` narrows the answer for a caller that knows the aggregate's type.
 */
export const selectOptimisticView = <View extends DeploymentView = DeploymentView>(
  state: ClientState,
  aggregateId: string,
): OptimisticView<View> => {
  let perState = cache.get(state);
  if (!perState) cache.set(state, (perState = new Map()));
  let view = perState.get(aggregateId);
  if (!view) {
    view = optimisticView(state.confirmed[aggregateId], selectPendingCommands(state, aggregateId));
    perState.set(aggregateId, view);
  }
  return view as OptimisticView<View>;
};

/** The view a component shows: confirmed + pending (`null` if it does not exist or is deleted). */
export const selectView = <View extends DeploymentView = DeploymentView>(
  state: ClientState,
  aggregateId: string,
): View | null => selectOptimisticView<View>(state, aggregateId).view;

/** The server's view as last confirmed. */
export const selectConfirmedView = <View extends DeploymentView = DeploymentView>(
  state: ClientState,
  aggregateId: string,
): View | null => (state.confirmed[aggregateId]?.view as View | undefined) ?? null;

export const selectCommandStatus = (
  state: ClientState,
  commandId: string,
): CommandStatus | undefined => state.commands[commandId];

export const selectOutboxLength = (state: ClientState) => state.outbox.length;
export const selectOnline = (state: ClientState) => state.online;
export const selectIsSender = (state: ClientState) => state.sending;
/** The live socket is open and its subscriptions resynced. */
export const selectLiveConnected = (state: ClientState) => state.live.connected;
export const selectSubscribedIds = (state: ClientState) => Object.keys(state.live.subscriptions);
export const selectIsSubscribed = (state: ClientState, id: string) =>
  state.live.subscriptions[id] !== undefined;
/** The last version a push or resync brought for a followed id (`undefined` if not followed). */
export const selectLastPushedVersion = (state: ClientState, id: string) =>
  state.live.subscriptions[id]?.lastVersion;
/**
 * The subscription of a followed id, with where it stands: `status` (`pending`, `confirmed`,
 * `failed`) and a failed one's `error` (`undefined` if not followed). The stored object, so
 * `useSelector` sees a change only when it changed.
 */
export const selectSubscriptionStatus = (
  state: ClientState,
  id: string,
): LiveSubscription | undefined => state.live.subscriptions[id];
