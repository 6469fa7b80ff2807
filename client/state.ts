/**
 * The client's Redux slice: the confirmed view of every aggregate it knows (with its version),
 * the outbox of pending commands, each command's status, and online/sender flags. Pure:
 * actions, reducer, selectors. The view a component reads is derived: confirmed state + pending
 * commands run through the server's own `decide` and reducer, those of the aggregate the
 * command names (any aggregate of the deployment: client/aggregates.ts). A rejection removes
 * the command; nothing is rolled back.
 */
import type { Action, UnknownAction } from 'redux';
import { type AppError, NotFoundError } from '../lambdas/core/shared/errors';
import { ForbiddenError } from '../lambdas/core/identity/authorization';
import type { Principal } from '../lambdas/core/identity/principal';
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
import type { ApiErrorCode, SignInReason } from './api';

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
  /**
   * The subject who queued it (the principal signed in then): it is sent only with that user's
   * token, and signing out removes it. Absent when nobody was known to be signed in.
   */
  readonly user?: string;
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
  /**
   * Who is signed in, as the token says (decoded, not verified): the prediction runs the
   * aggregates' `canRead` and `authorize` for them, and their commands are the outbox. `null`:
   * nobody known (the prediction then runs no rule).
   */
  readonly principal: Principal | null;
  /**
   * The server refused the token and a refreshed one, or the outbox holds another user's
   * commands: sending waits for a sign-in (`client.signedIn()`). `null` otherwise.
   */
  readonly signInRequired: SignInRequired | null;
  /** The last network evidence: browser events, failed sends, answers. */
  readonly online: boolean;
  /** This client (tab) holds the sender lock. */
  readonly sending: boolean;
  /**
   * The server speaks a newer version than this code (an event it cannot decode): the app
   * should offer a reload. `null` until then.
   */
  readonly outdated: Outdated | null;
  /** How many settled command statuses are kept (the most recent); older ones are pruned. */
  readonly keepSettled: number;
  /** Commands settled by this client so far (it only grows: a list can refresh on it). */
  readonly settledCount: number;
  /** By aggregate id (ids are unique across aggregate types: one event log per id). */
  readonly confirmed: Readonly<Record<string, ConfirmedView>>;
  /** Pending commands in dispatch (`seq`) order. */
  readonly outbox: readonly OutboxEntry[];
  /**
   * The status of every pending command and of the most recently settled ones; older settled
   * statuses are in `settledChunks`. Read them with `selectCommandStatus` and
   * `selectCommandStatuses`.
   */
  readonly commands: Readonly<Record<string, CommandStatus>>;
  /**
   * Older settled statuses (confirmed, rejected, unknown), in chunks, oldest first: an action
   * copies `commands` and at most one chunk, never every status. Beyond the `keepSettled` most
   * recent, settled statuses are pruned (their `selectCommandStatus` is `undefined`), so memory
   * and the cost of an action stay bounded however many commands are sent.
   */
  readonly settledChunks: readonly SettledChunk[];
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

export interface SettledChunk {
  /** How many statuses `statuses` holds. */
  readonly size: number;
  readonly statuses: Readonly<Record<string, CommandStatus>>;
}

export interface SignInRequired {
  readonly reason: SignInReason;
  readonly message: string;
}

export interface Outdated {
  /** What could not be read, e.g. `Stored event 2 of aggregate o-1 is unreadable`. */
  readonly reason: string;
}

/** Settled command statuses kept by default (`keepSettledCommands` of createCommandClient). */
export const DEFAULT_KEEP_SETTLED_COMMANDS = 1_000;

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
  principal: null,
  signInRequired: null,
  online: true,
  sending: false,
  outdated: null,
  keepSettled: DEFAULT_KEEP_SETTLED_COMMANDS,
  settledCount: 0,
  confirmed: {},
  outbox: [],
  commands: {},
  settledChunks: [],
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
/**
 * A server view from a query (`GET /{collection}/{id}`, a list, /history at the latest). Like a
 * push, it is held while the aggregate has pending commands (it may already contain one).
 */
export interface ViewLoadedAction extends Action<'view/loaded'> {
  readonly payload: ConfirmedView & {
    readonly id: string;
    /**
     * Read at the version of a command this client settled (`/history?version=N`, or before
     * the next command of the aggregate was sent): it contains none of the pending commands,
     * so it is applied at once.
     */
    readonly settledOnly?: boolean;
  };
}
export interface ConnectionChangedAction extends Action<'connection/changed'> {
  readonly payload: { readonly online: boolean };
}
export interface SenderChangedAction extends Action<'sender/changed'> {
  readonly payload: { readonly sending: boolean };
}
/**
 * The server sent something this code cannot decode (an event of a newer schema, after a
 * deploy): the app should offer a reload. The first reason is kept.
 */
export interface AppOutdatedAction extends Action<'app/outdated'> {
  readonly payload: Outdated;
}
/** The command client's options that live in the state (createCommandClient dispatches it). */
export interface ClientConfiguredAction extends Action<'client/configured'> {
  readonly payload: { readonly keepSettledCommands: number };
}

/**
 * Who is signed in now (the command client dispatches it at start and on `signedIn()`). Another
 * subject than before drops what the state holds of the previous one (views, outbox, statuses,
 * subscriptions): nothing of one user shows to the next.
 */
export interface IdentityChangedAction extends Action<'identity/changed'> {
  readonly payload: { readonly principal: Principal | null };
}
/** Sending waits for a sign-in (the command client dispatches it on a SignInRequiredError). */
export interface SignInRequiredAction extends Action<'identity/signInRequired'> {
  readonly payload: SignInRequired;
}
/** The user signed out (`client.signOut()`): the state keeps nothing of them. */
export interface SignedOutAction extends Action<'identity/signedOut'> {
  readonly payload: Record<string, never>;
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
  | SenderChangedAction
  | AppOutdatedAction
  | ClientConfiguredAction
  | IdentityChangedAction
  | SignInRequiredAction
  | SignedOutAction;

/** Tells the state who is signed in (the command client does it; a test or a store may too). */
export const identityChanged = (
  principal: Principal | null,
): IdentityChangedAction & UnknownAction => ({
  type: 'identity/changed',
  payload: { principal },
});

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

/** Marks the app as outdated (e.g. the app's own `getEvents` met an event it cannot decode). */
export const appOutdated = (reason: string): AppOutdatedAction & UnknownAction => ({
  type: 'app/outdated',
  payload: { reason },
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

/**
 * What an answer does to the confirmed state. `confirmed` is `undefined` when the events do not
 * follow what is known, or cannot be decoded (the middleware then reads the server's state at
 * that version); `undecodable` says why this code could not read them (a newer server).
 */
interface FoldedAnswer {
  readonly confirmed?: ConfirmedView;
  readonly undecodable?: string;
}

/** The answer's events through the one event codec (an older schema is upcast), or why not. */
const decodeAll = (
  events: readonly StoredEvent[],
): { readonly events: StoredEvent[] } | { readonly reason: string } => {
  try {
    return { events: events.map(decodeStoredEvent) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
};

const foldAnswer = (
  known: ConfirmedView | undefined,
  answer: CommandConfirmedAction['payload'],
): FoldedAnswer => {
  const from = known ?? { version: 0, view: null };
  // An answer at or below what is known (a replay, a slow answer) never moves the view back.
  if (answer.version <= from.version) return { confirmed: from };
  const decoded = decodeAll(answer.events);
  const undecodable = 'reason' in decoded ? { undecodable: decoded.reason } : {};
  // A coupled answer's row is the server's own rendering: taken as is, read or not its events.
  if (answer.view !== undefined)
    return { confirmed: { version: answer.version, view: answer.view }, ...undecodable };
  if (!('events' in decoded)) return undecodable;
  const first = decoded.events[0];
  if (!first || first.version !== from.version + 1) return {};
  const aggregate = aggregateOfType(first.aggregateType);
  if (!aggregate) return {};
  const folded = decoded.events.reduce<unknown>(
    (state, event) => aggregate.reducer(state, toAction(event)),
    from.view ?? aggregate.initialState,
  );
  return { confirmed: { version: answer.version, view: visibleIn(aggregate, folded) } };
};

/**
 * The confirmed state after an answer; `undefined` when the events do not follow what we know
 * or cannot be decoded here (then the aggregate is read from the server).
 */
export const confirmAnswer = (
  known: ConfirmedView | undefined,
  answer: CommandConfirmedAction['payload'],
): ConfirmedView | undefined => foldAnswer(known, answer).confirmed;

/**
 * A fresh copy of a record of command ids, made as a dictionary (a null-prototype object, which
 * V8 keeps in dictionary mode): a spread of ever-new ids builds a hidden class per key, about
 * ten times slower, and was most of an action's cost once statuses were many.
 */
const dictionaryOf = <V>(record: Readonly<Record<string, V>> = {}): Record<string, V> => {
  const copy = Object.create(null) as Record<string, V>;
  for (const id of Object.keys(record)) copy[id] = record[id]!;
  return copy;
};

/** A command's status, wherever it is kept (the newest first). */
const statusOf = (state: ClientState, commandId: string): CommandStatus | undefined => {
  if (Object.hasOwn(state.commands, commandId)) return state.commands[commandId];
  for (let i = state.settledChunks.length - 1; i >= 0; i--) {
    const { statuses } = state.settledChunks[i]!;
    if (Object.hasOwn(statuses, commandId)) return statuses[commandId];
  }
  return undefined;
};

/**
 * A command's new status. Settled ones gather in `commands` until there are a chunk's worth
 * (about the square root of `keepSettled`), then move to a chunk of their own; beyond
 * `keepSettled` the oldest are dropped. Each action copies `commands` (pending + fewer than a
 * chunk) and at most the oldest chunk: bounded, however many commands were sent.
 */
const withStatus = (
  state: ClientState,
  commandId: string,
  status: CommandStatus,
): Pick<ClientState, 'commands' | 'settledChunks' | 'settledCount'> => {
  const commands = dictionaryOf(state.commands);
  commands[commandId] = status;
  const { settledChunks, settledCount } = state;
  if (status.state === 'pending') return { commands, settledChunks, settledCount };
  return {
    ...keptSettled(commands, settledChunks, state.keepSettled),
    settledCount: settledCount + 1,
  };
};

/** Moves a chunk's worth of settled statuses out of `commands` (a fresh copy), keeps `keep`. */
const keptSettled = (
  commands: Record<string, CommandStatus>,
  chunks: readonly SettledChunk[],
  keep: number,
): Pick<ClientState, 'commands' | 'settledChunks'> => {
  const chunkSize = Math.max(1, Math.ceil(Math.sqrt(keep)));
  const recent = Object.keys(commands).filter((id) => commands[id]!.state !== 'pending');
  let settledChunks = chunks;
  let recentCount = recent.length;
  if (recentCount >= chunkSize) {
    const statuses = dictionaryOf<CommandStatus>();
    for (const id of recent) {
      statuses[id] = commands[id]!;
      delete commands[id];
    }
    settledChunks = [...chunks, { size: recentCount, statuses }];
    recentCount = 0;
  }
  // Fewer than a chunk stay in `commands`, and a chunk is at most `keep`: only chunks are cut.
  let excess = settledChunks.reduce((n, chunk) => n + chunk.size, recentCount) - keep;
  while (excess > 0 && settledChunks.length > 0) {
    const [oldest, ...rest] = settledChunks as [SettledChunk, ...SettledChunk[]];
    if (oldest.size <= excess) {
      excess -= oldest.size;
      settledChunks = rest;
      continue;
    }
    // In a chunk, ids are in the order their commands were first queued here.
    const statuses = dictionaryOf<CommandStatus>();
    for (const id of Object.keys(oldest.statuses).slice(excess))
      statuses[id] = oldest.statuses[id]!;
    settledChunks = [{ size: oldest.size - excess, statuses }, ...rest];
    excess = 0;
  }
  return { commands, settledChunks };
};

/** The state with nothing of its user: the connection, sender and settings flags only. */
const withoutUser = (state: ClientState): ClientState => ({
  ...initialClientState,
  principal: state.principal,
  online: state.online,
  sending: state.sending,
  outdated: state.outdated,
  keepSettled: state.keepSettled,
  // It only grows: a list that refreshes on it must not see an old count again.
  settledCount: state.settledCount,
  live: { ...initialClientState.live, connected: state.live.connected },
});

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

/**
 * A server state from a query or a push, merged the one way: never older than what is known
 * (confirmed or held), and held while the aggregate has pending commands, since it may already
 * contain one of them and folding the outbox on top would apply it twice (`releaseHeld` moves
 * it to `confirmed` once they settle). `settledOnly`: read at a version this client settled,
 * it contains none of them and is applied at once (if newer than the confirmed state).
 */
const mergeServerState = (
  state: ClientState,
  id: string,
  candidate: ConfirmedView,
  { settledOnly = false, live = state.live }: { settledOnly?: boolean; live?: LiveState } = {},
): ClientState => {
  const unchanged = live === state.live ? state : { ...state, live };
  const confirmedVersion = state.confirmed[id]?.version ?? 0;
  const apply = () => ({ ...state, live, confirmed: { ...state.confirmed, [id]: candidate } });
  if (settledOnly) return candidate.version > confirmedVersion ? apply() : unchanged;
  if (candidate.version <= Math.max(confirmedVersion, live.held[id]?.version ?? 0))
    return unchanged;
  if (state.outbox.some((e) => e.aggregateId === id))
    return { ...state, live: { ...live, held: { ...live.held, [id]: candidate } } };
  return apply();
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
      // Queued again: the same command, now with its user (client.ts `ownedByUser`).
      if (state.outbox.some((e) => e.commandId === a.payload.commandId)) {
        return {
          ...state,
          outbox: state.outbox.map((e) => (e.commandId === a.payload.commandId ? a.payload : e)),
        };
      }
      if (statusOf(state, a.payload.commandId)?.state === 'confirmed') return state;
      return {
        ...state,
        outbox: [...state.outbox, a.payload].sort(bySeq),
        ...withStatus(state, a.payload.commandId, {
          state: 'pending',
          aggregateId: a.payload.aggregateId,
          type: a.payload.type,
          attempts: a.payload.attempts,
        }),
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
        ...withStatus(state, a.payload.commandId, {
          ...current,
          attempts: a.payload.attempts,
          lastError: a.payload.error,
        }),
      };
    }
    case 'command/confirmed': {
      const { commandId, aggregateId } = a.payload;
      const entry = state.outbox.find((e) => e.commandId === commandId);
      const { confirmed: next, undecodable } = foldAnswer(state.confirmed[aggregateId], a.payload);
      return {
        ...state,
        online: true,
        outbox: withoutCommand(state.outbox, commandId),
        // A gap (events we never saw) or events this code cannot read leave the confirmed state
        // as is; the middleware reads the server's. The command was applied all the same.
        confirmed:
          next === undefined ? state.confirmed : { ...state.confirmed, [aggregateId]: next },
        ...(undecodable !== undefined &&
          state.outdated === null && { outdated: { reason: undecodable } }),
        ...withStatus(state, commandId, {
          state: 'confirmed',
          aggregateId,
          type: entry?.type ?? statusOf(state, commandId)?.type ?? '',
          version: a.payload.version,
          replayed: a.payload.replayed,
        }),
      };
    }
    case 'command/rejected': {
      const { commandId, aggregateId, ...rejection } = a.payload;
      const entry = state.outbox.find((e) => e.commandId === commandId);
      return {
        ...state,
        online: true,
        outbox: withoutCommand(state.outbox, commandId),
        ...withStatus(state, commandId, {
          state: 'rejected',
          aggregateId,
          type: entry?.type ?? statusOf(state, commandId)?.type ?? '',
          ...rejection,
        }),
      };
    }
    case 'command/unknown': {
      const { commandId, aggregateId } = a.payload;
      const current = statusOf(state, commandId);
      const entry = state.outbox.find((e) => e.commandId === commandId);
      return {
        ...state,
        outbox: withoutCommand(state.outbox, commandId),
        ...withStatus(state, commandId, {
          state: 'unknown',
          aggregateId,
          type: entry?.type ?? current?.type ?? '',
          attempts: entry?.attempts ?? 0,
          ...(current?.state === 'pending' &&
            current.lastError !== undefined && { lastError: current.lastError }),
        }),
      };
    }
    case 'outbox/restored': {
      // The shared storage is the truth for what is pending (another tab may have settled some);
      // commands already settled here keep their status.
      const entries = a.payload.entries.filter((e) => {
        const settled = statusOf(state, e.commandId)?.state;
        return settled === undefined || settled === 'pending';
      });
      const commands = dictionaryOf(state.commands);
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
      const { id, version, view, settledOnly } = a.payload;
      return mergeServerState(state, id, { version, view }, { settledOnly: settledOnly === true });
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
      const { id, version, view } = a.payload;
      return mergeServerState(
        state,
        id,
        { version, view },
        {
          live: withLastVersion(state.live, id, version),
        },
      );
    }
    case 'connection/changed':
      return a.payload.online === state.online ? state : { ...state, online: a.payload.online };
    case 'sender/changed':
      return a.payload.sending === state.sending ? state : { ...state, sending: a.payload.sending };
    case 'app/outdated':
      return state.outdated === null ? { ...state, outdated: { reason: a.payload.reason } } : state;
    case 'identity/changed': {
      const { principal } = a.payload;
      const before = state.principal?.subject;
      // Another user: nothing of the previous one stays (views, outbox, statuses, follows).
      const base =
        before !== undefined && before !== principal?.subject ? withoutUser(state) : state;
      return { ...base, principal, signInRequired: null };
    }
    case 'identity/signInRequired':
      return { ...state, signInRequired: a.payload };
    case 'identity/signedOut':
      return { ...withoutUser(state), principal: null, signInRequired: null };
    case 'client/configured': {
      const keep = a.payload.keepSettledCommands;
      if (keep === state.keepSettled) return state;
      return {
        ...state,
        keepSettled: keep,
        ...keptSettled(dictionaryOf(state.commands), state.settledChunks, keep),
      };
    }
    default:
      return state;
  }
};

// ---- optimistic view -------------------------------------------------------------------------

/** What a pending command does to the view: its events, or the rule that would reject it. */
export interface PendingOutcome {
  readonly commandId: string;
  readonly events: readonly EventAction[];
  /** The shared rules refuse it on the optimistic state; the server decides for real. */
  readonly wouldReject?: PredictedRejection;
}

/**
 * Why the prediction refuses a command, in the shape the server's answer would have: a 403
 * FORBIDDEN with `details.rule` (authorize), a 404 NOT_FOUND (canRead, or decide), a 422
 * RULE_VIOLATED (decide)...
 */
export interface PredictedRejection {
  readonly code: string;
  readonly message: string;
  /** The HTTP status the server answers with this code (absent for an error outside the catalogue). */
  readonly status?: number;
  readonly details?: Record<string, unknown>;
}

export interface OptimisticView<View = DeploymentView> {
  readonly view: View | null;
  /** The version the aggregate reaches once every pending command is applied as predicted. */
  readonly version: number;
  readonly confirmedVersion: number;
  readonly pending: readonly PendingOutcome[];
}

/** The actor of a prediction without a known principal: the entry's user, else nobody. */
const actorOf = (principal: Principal | null | undefined, user: string | undefined): Principal =>
  principal ?? { subject: user ?? '', roles: [] };

/**
 * A command through its aggregate as the server runs it: `canRead` (a state the principal may
 * not read is NOT_FOUND), `authorize` (FORBIDDEN with the rule), then `decide`. Without a
 * principal only `decide` runs. Throws the server's own AppError.
 */
const decideAs = (
  aggregate: ClientAggregate,
  state: unknown,
  command: { readonly type: string; readonly payload: unknown },
  context: { readonly aggregateId: string; readonly version: number; readonly now: string },
  principal: Principal | null | undefined,
  user?: string,
) => {
  const { aggregateId } = context;
  if (principal) {
    if (!aggregate.canRead(principal, state)) {
      throw new NotFoundError(`${aggregateId} does not exist`, { aggregateId });
    }
    const rule = aggregate.authorize(principal, state, command);
    if (rule !== undefined) {
      throw new ForbiddenError(rule, aggregate.permissions[rule] ?? `Not allowed: ${rule}`, {
        aggregateId,
        type: command.type,
      });
    }
  }
  return aggregate.decide(state, command, { ...context, actor: actorOf(principal, user) });
};

const rejectionOfError = (error: unknown): PredictedRejection => {
  const appError = error as Partial<AppError>;
  return {
    code: String(appError.code ?? 'INTERNAL'),
    message: appError.message ?? String(error),
    ...(typeof appError.status === 'number' && { status: appError.status }),
    ...(appError.details !== undefined && { details: appError.details }),
  };
};

/** One pending command through its aggregate's rules, `decide` and reducer (throws its AppError). */
const predict = (
  aggregate: ClientAggregate,
  state: unknown,
  version: number,
  entry: OutboxEntry,
  principal: Principal | null | undefined,
): EventAction[] => {
  const { aggregateId, issuedAt, commandId } = entry;
  const decided = decideAs(
    aggregate,
    state,
    { type: entry.type, payload: entry.payload },
    { aggregateId, version, now: issuedAt },
    principal,
    entry.user,
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
 * Confirmed state + pending commands through the rules, `decide` and reducer of the aggregate
 * each command names (its type's prefix). Time and event ids are stamped here, as the server's
 * edge does: `now` is the command's dispatch time. With a principal, its `canRead` and
 * `authorize` run first, as on the server: a forbidden command shows as `wouldReject` at once.
 */
export const optimisticView = (
  confirmed: ConfirmedView | undefined,
  pending: readonly OutboxEntry[],
  principal?: Principal | null,
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
      const from = state ?? aggregate.initialState;
      const events = predict(aggregate, from, version, entry, principal);
      state = events.reduce<unknown>((s, e) => aggregate.reducer(s, e), from);
      version += events.length;
      shownBy = aggregate;
      outcomes.push({ commandId: entry.commandId, events });
    } catch (error) {
      outcomes.push({
        commandId: entry.commandId,
        events: [],
        wouldReject: rejectionOfError(error),
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

/**
 * Why the server would refuse `command` on the view shown (what the optimistic view predicts),
 * or `undefined` when it would accept it: the same rules, in the same order, as the server
 * (`canRead`, `authorize` for `principal`, `decide`). A control is enabled only if its command
 * could apply; its title can say why not.
 */
export const predictRejection = (
  view: Pick<OptimisticView, 'view' | 'version'>,
  aggregateId: string,
  command: DeploymentCommand,
  principal: Principal | null,
  now: string = new Date().toISOString(),
): PredictedRejection | undefined => {
  const aggregate = aggregateOfCommand(command.type);
  if (!aggregate)
    return { code: 'UNKNOWN_COMMAND_TYPE', message: `No aggregate handles ${command.type}` };
  try {
    decideAs(
      aggregate,
      view.view ?? aggregate.initialState,
      command,
      { aggregateId, version: view.version, now },
      principal,
    );
    return undefined;
  } catch (error) {
    return rejectionOfError(error);
  }
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
    view = optimisticView(
      state.confirmed[aggregateId],
      selectPendingCommands(state, aggregateId),
      state.principal,
    );
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

/**
 * A command's status: `undefined` for an id this client never saw, and for a settled one pruned
 * beyond the `keepSettledCommands` most recent (its promise had the outcome).
 */
export const selectCommandStatus = (
  state: ClientState,
  commandId: string,
): CommandStatus | undefined => statusOf(state, commandId);

/** Per `commands` object (it changes only with a status): the list and the chunks it read. */
const statusLists = new WeakMap<
  object,
  {
    readonly chunks: readonly SettledChunk[];
    readonly list: ReadonlyArray<readonly [string, CommandStatus]>;
  }
>();

/**
 * Every status kept, oldest first (the settled ones in order of settling, roughly; pending
 * last), as `[commandId, status]` pairs: at most `keepSettled` settled ones plus the pending.
 */
export const selectCommandStatuses = (
  state: ClientState,
): ReadonlyArray<readonly [commandId: string, status: CommandStatus]> => {
  const cached = statusLists.get(state.commands);
  if (cached?.chunks === state.settledChunks) return cached.list;
  const list = [...state.settledChunks.map((c) => c.statuses), state.commands].flatMap((statuses) =>
    Object.keys(statuses).map((id) => [id, statuses[id]!] as const),
  );
  statusLists.set(state.commands, { chunks: state.settledChunks, list });
  return list;
};

/** How many commands this client has settled so far: it only grows (a list can refresh on it). */
export const selectSettledCount = (state: ClientState) => state.settledCount;

export const selectOutboxLength = (state: ClientState) => state.outbox.length;
/** Who is signed in, as the token says (unverified), or `null`. */
export const selectPrincipal = (state: ClientState) => state.principal;
/** Why sending waits for a sign-in (`{ reason, message }`), or `null`. */
export const selectSignInRequired = (state: ClientState) => state.signInRequired;
/**
 * Why the app is outdated (the server sent an event this code cannot decode: a newer version
 * is deployed), or `null`: show "new version available — reload".
 */
export const selectOutdated = (state: ClientState) => state.outdated;
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
