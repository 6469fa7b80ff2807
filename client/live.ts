/**
 * Live updates for the Redux client: a WebSocket to the stack's WebSocket API that follows the
 * ids in `state.live.subscriptions`, each in its collection
 * (`dispatch(subscribeTo('shopping-lists', id))`). A push above the known version is taken
 * inline: its events folded with the aggregate's reducer when they follow the state held, else
 * its row, else (a poke, or events after a gap) the row fetched with `?minVersion`
 * (docs/decisions/push-events-to-fold.md). Every connect and reconnect re-subscribes every
 * followed id; the server answers `subscribed` with the row's version, read
 * after it stored the subscription, and the client reads the row (GET) only when that version is
 * above what it knows. A change made while the socket was down, or between the subscribe and
 * its acknowledgement, is never missed: the server pushes every change after its read, the
 * resync brings every one before. Each subscription's status (`pending`, `confirmed`, `failed`
 * with the server's error or `CONNECTION_CLOSED`) is in the state
 * (`selectSubscriptionStatus`).
 * With a token provider the token goes in the URL (`?token=`: a browser cannot set headers on a
 * WebSocket), asked for again on every connect, and refreshed after a socket that closed
 * before it opened (a refused upgrade looks like that).
 * No Node module here: in Node pass the `ws` package's class as `WebSocket`.
 */
import type { Dispatch, Middleware, MiddlewareAPI, UnknownAction } from 'redux';
import { ApiError, type ApiClient } from './api';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { decodeStoredEvent } from '../lambdas/core/events/event-codec';
import { type StoredEvent, toAction } from '../lambdas/core/events/events';
import type {
  ClientAction,
  ClientState,
  ConfirmedView,
  LiveSubscriptionError,
  LiveSubscriptionStatus,
} from './state';
import {
  aggregateOfView,
  type ClientAggregate,
  type DeploymentView,
  visibleIn,
} from './aggregates';
import type { TokenProvider } from './identity';

/**
 * A handler whose event parameter is checked both ways (method syntax), so a socket class that
 * types its events precisely (`ws`'s `MessageEvent`, the browser's) is a LiveSocket as it is.
 */
type SocketHandler<Event> = { handle(event: Event): void }['handle'];

/** The part of the WebSocket interface used here (the browser's and `ws`'s both have it). */
export interface LiveSocket {
  readonly readyState: number;
  onopen: SocketHandler<unknown> | null;
  onclose: SocketHandler<unknown> | null;
  onerror: SocketHandler<unknown> | null;
  onmessage: SocketHandler<{ data: unknown }> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type LiveSocketFactory = new (url: string) => LiveSocket;

export interface LiveClientOptions<Root = unknown> {
  /** The stack's WebSocket URL (`ws://127.0.0.1:3003` locally, the stage URL in AWS). */
  readonly url: string;
  readonly api: ApiClient;
  /** Default: the global WebSocket (browsers, Node 22+); in Node 20 pass `ws`'s. */
  readonly WebSocket?: LiveSocketFactory;
  /** Where the client's slice is in the root state. Default `state.client`. */
  readonly selectState?: (root: Root) => ClientState;
  /**
   * An app message at this interval keeps the socket under API Gateway's 10-minute idle
   * timeout (it does not count ping frames). Default 5 minutes.
   */
  readonly heartbeatMs?: number;
  /** Reconnect on purpose before API Gateway's 2-hour limit. Default 1 h 55 min. */
  readonly maxConnectionMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  /**
   * The signed-in user's ID token (the API client's provider): sent as `?token=` on every
   * connect; `{ refresh: true }` after a socket that closed before it opened. No token: no
   * socket (tried again after a backoff).
   */
  readonly token?: TokenProvider;
}

/** The query parameter the `$connect` authorizer reads the token from. */
export const LIVE_TOKEN_PARAMETER = 'token';

/** `url` with `?token=` (or `&token=`) set. */
export const urlWithToken = (url: string, token: string): string => {
  const [base, hash] = url.split('#', 2) as [string, string | undefined];
  const search = `${LIVE_TOKEN_PARAMETER}=${encodeURIComponent(token)}`;
  return `${base}${base.includes('?') ? '&' : '?'}${search}${hash === undefined ? '' : `#${hash}`}`;
};

export interface LiveClient {
  readonly middleware: Middleware;
  /** Opens the socket (again, after stop) when something is followed. */
  start(): void;
  /** Closes the socket and stops reconnecting. */
  stop(): void;
  /** Closes the current socket as a network drop would (tests, "reconnect now"). */
  drop(): void;
}

const OPEN = 1;

/**
 * A pushed change of a view: `<view>/changed` with the row under `<view>` (or a poke without
 * it), or `<view>/deleted`.
 */
interface ChangedMessage {
  readonly viewName: string;
  readonly deleted: boolean;
  readonly id: string;
  readonly version: number;
  readonly row?: DeploymentView;
  /** The events from `version - events.length + 1` to `version`: folded when they follow. */
  readonly events?: readonly unknown[];
}

const changedMessageOf = (message: unknown): ChangedMessage | undefined => {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, id, version } = message as { type?: unknown; id?: unknown; version?: unknown };
  const [, viewName, change] = /^(.+)\/(changed|deleted)$/.exec(String(type)) ?? [];
  if (!viewName || typeof id !== 'string' || typeof version !== 'number') return undefined;
  const row = (message as Record<string, unknown>)[viewName] as DeploymentView | undefined;
  const { events } = message as { events?: unknown };
  return {
    viewName,
    deleted: change === 'deleted',
    id,
    version,
    ...(row && { row }),
    ...(Array.isArray(events) && events.length > 0 && { events }),
  };
};

/**
 * The state a pushed message's events lead to, folded with the aggregate's own reducer onto the
 * server state held (`known`, the newest of the confirmed and the held one), as the server folds
 * its row; `undefined` when they do not follow it (a gap: a missed push, a state never read), do
 * not end at the message's version, or cannot be decoded here: then the row is read.
 */
export const foldPushedEvents = (
  aggregate: ClientAggregate,
  known: ConfirmedView | undefined,
  change: { readonly id: string; readonly version: number; readonly events: readonly unknown[] },
): ConfirmedView | undefined => {
  const from = known ?? { version: 0, view: null };
  // A state held as null past version 0 is a deleted aggregate's: nothing to fold onto.
  if (from.version > 0 && from.view === null) return undefined;
  let decoded: StoredEvent[];
  try {
    // A pushed event (lambdas/core/push/push.ts, PushedEvent) leaves out what the message says
    // (the aggregate) and what the fold does not read (the command's ids and hash).
    decoded = change.events.map((event) =>
      decodeStoredEvent({
        aggregateId: change.id,
        aggregateType: aggregate.type,
        commandId: '',
        commandHash: '',
        causationId: '',
        ...(event as object),
      }),
    );
  } catch {
    return undefined;
  }
  const follows = decoded.every(
    (event, index) =>
      event.aggregateId === change.id &&
      event.aggregateType === aggregate.type &&
      event.version === from.version + 1 + index,
  );
  if (!follows || decoded.at(-1)?.version !== change.version) return undefined;
  const folded = decoded.reduce<unknown>(
    (state, event) => aggregate.reducer(state, toAction(event)),
    from.view ?? aggregate.initialState,
  );
  return { version: change.version, view: visibleIn(aggregate, folded) };
};

/** The newest server state the client holds of `id`: confirmed, or held behind its commands. */
const serverStateOf = (state: ClientState, id: string): ConfirmedView | undefined => {
  const confirmed = state.confirmed[id];
  const held = state.live.held[id];
  return held && held.version > (confirmed?.version ?? 0) ? held : confirmed;
};

/** The server's answer to a subscribe: `subscribed` (with the row's version) or an error. */
type SubscribeAnswer =
  | {
      readonly ok: true;
      readonly collection: string;
      readonly id: string;
      readonly version?: number;
    }
  | {
      readonly ok: false;
      readonly collection: string;
      readonly id: string;
      readonly error: LiveSubscriptionError;
    };

const subscribeAnswerOf = (message: unknown): SubscribeAnswer | undefined => {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, action, collection, id, version, error } = message as Record<string, unknown>;
  if (typeof collection !== 'string' || typeof id !== 'string') return undefined;
  if (type === 'subscribed') {
    // A server before acknowledgements carried versions sends none: the row is read.
    return { ok: true, collection, id, ...(typeof version === 'number' && { version }) };
  }
  if (type !== 'error' || action !== 'subscribe') return undefined;
  const { code, message: text, details } = (error ?? {}) as Record<string, unknown>;
  return {
    ok: false,
    collection,
    id,
    error: {
      code: typeof code === 'string' ? code : 'UNKNOWN',
      message: typeof text === 'string' ? text : 'The subscription failed',
      ...(details !== undefined && { details }),
    },
  };
};

const CONNECTION_CLOSED: LiveSubscriptionError = {
  code: 'CONNECTION_CLOSED',
  message: 'The socket closed before the server acknowledged the subscription',
};

/** The same ids followed in the same collections (statuses and versions aside). */
const sameFollowed = (
  before: ClientState['live']['subscriptions'] | undefined,
  after: ClientState['live']['subscriptions'],
): boolean => {
  if (!before) return false;
  const ids = Object.keys(after);
  return (
    ids.length === Object.keys(before).length &&
    ids.every((id) => before[id]?.collection === after[id]!.collection)
  );
};

export const createLiveClient = <Root = { client: ClientState }>(
  options: LiveClientOptions<Root>,
): LiveClient => {
  const { api, url } = options;
  const selectState =
    options.selectState ?? ((root: Root) => (root as { client: ClientState }).client);
  const heartbeatMs = options.heartbeatMs ?? 5 * 60_000;
  const maxConnectionMs = options.maxConnectionMs ?? (2 * 60 - 5) * 60_000;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const Socket =
    options.WebSocket ?? (globalThis as { WebSocket?: LiveSocketFactory }).WebSocket ?? undefined;

  let store: MiddlewareAPI<Dispatch, Root> | undefined;
  let socket: LiveSocket | undefined;
  let running = false;
  let failures = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let maxAgeTimer: ReturnType<typeof setTimeout> | undefined;
  /** `<collection>#<id>` subscribed on the current socket. */
  let onSocket = new Set<string>();
  /**
   * `<collection>#<id>` whose subscribe is not acknowledged yet, with the version of pushed events
   * that did not follow the state held: read once the acknowledgement comes, not before it.
   */
  let behindUntilAck = new Map<string, number>();
  /** A token is being asked for: the socket opens once it comes. */
  let connecting = false;
  /** The last socket closed before it opened: the next connect asks for a fresh token. */
  let refusedLast = false;

  const state = () => selectState(store!.getState());
  const dispatch = (action: ClientAction) => store!.dispatch(action as unknown as UnknownAction);
  /** What the state follows: `<collection>#<id>` keys. */
  const followed = () =>
    Object.entries(state().live.subscriptions).map(([id, { collection }]) => keyOf(collection, id));
  const keyOf = (collection: string, id: string) => `${collection}#${id}`;
  const parseKey = (key: string) => {
    const at = key.indexOf('#');
    return { collection: key.slice(0, at), id: key.slice(at + 1) };
  };

  const send = (message: unknown) => {
    if (socket?.readyState === OPEN) socket.send(JSON.stringify(message));
  };

  const stillFollowed = (collection: string, id: string) =>
    store !== undefined && state().live.subscriptions[id]?.collection === collection;

  /**
   * Reads the row at (at least) `minVersion` and feeds it in. A 404 is skipped (not created yet:
   * a later push brings it), unless the server said the row exists at `minVersion`
   * (`existsAtMinVersion`, from an acknowledgement): then the row is a deleted aggregate's.
   */
  const fetchRow = async (key: string, minVersion?: number, existsAtMinVersion = false) => {
    const { collection, id } = parseKey(key);
    try {
      const view = await api.getView(
        collection,
        id,
        minVersion === undefined ? {} : { minVersion },
      );
      if (stillFollowed(collection, id))
        dispatch({ type: 'view/pushed', payload: { id, version: view.version, view } });
    } catch (error) {
      // Anything but that 404: the next resync (or push) heals it.
      if (!(error instanceof ApiError) || error.status !== 404) return;
      if (existsAtMinVersion && minVersion !== undefined && stillFollowed(collection, id))
        dispatch({ type: 'view/pushed', payload: { id, version: minVersion, view: null } });
    }
  };

  const setStatus = (key: string, status: LiveSubscriptionStatus, error?: LiveSubscriptionError) =>
    dispatch({
      type: 'live/status',
      payload: { ...parseKey(key), status, ...(error && { error }) },
    });

  /** Sends the subscribe; the row is read once the server acknowledges it (onAnswer). */
  const subscribeOnSocket = (key: string) => {
    onSocket.add(key);
    setStatus(key, 'pending');
    send({ action: 'subscribe', ...parseKey(key) });
  };

  /**
   * The acknowledgement carries the row's version read after the subscription was stored: a
   * row above what this client knows is read (at least at that version); one it knows is not.
   */
  const onAnswer = (answer: SubscribeAnswer) => {
    const { collection, id } = answer;
    const key = keyOf(collection, id);
    if (!onSocket.has(key) || !stillFollowed(collection, id)) return;
    const behind = behindUntilAck.get(key);
    behindUntilAck.delete(key);
    if (!answer.ok) return setStatus(key, 'failed', answer.error);
    setStatus(key, 'confirmed');
    if (answer.version === undefined) return void fetchRow(key, behind);
    const known = Math.max(
      state().confirmed[id]?.version ?? 0,
      state().live.subscriptions[id]!.lastVersion,
    );
    // Pushed events that did not follow (`behind`) exist too: read at least at their version.
    const target = Math.max(answer.version, behind ?? 0);
    if (target > known) void fetchRow(key, target, true);
  };

  /**
   * The socket is gone: a subscription it had not acknowledged failed (CONNECTION_CLOSED), a
   * confirmed one is pending again; the next socket subscribes both again.
   */
  const settleClosed = (keys: Iterable<string>) => {
    if (!store) return;
    for (const key of keys) {
      const { collection, id } = parseKey(key);
      const subscription = state().live.subscriptions[id];
      if (subscription?.collection !== collection) continue;
      if (subscription.status === 'pending') setStatus(key, 'failed', CONNECTION_CLOSED);
      else if (subscription.status === 'confirmed') setStatus(key, 'pending');
    }
  };

  /** Makes the socket's subscriptions match the state's. */
  const sync = () => {
    if (!store || !running) return;
    const ids = followed();
    if (ids.length === 0) {
      // Nothing to follow: no socket (an idle one would only time out).
      if (socket) close();
      return;
    }
    if (connecting) return;
    if (!socket) return connect();
    if (socket.readyState !== OPEN) return;
    for (const key of ids) {
      if (!onSocket.has(key)) subscribeOnSocket(key);
    }
    for (const key of [...onSocket]) {
      if (!ids.includes(key)) {
        onSocket.delete(key);
        send({ action: 'unsubscribe', ...parseKey(key) });
      }
    }
  };

  const clearTimers = () => {
    clearInterval(heartbeatTimer);
    clearTimeout(maxAgeTimer);
    heartbeatTimer = maxAgeTimer = undefined;
  };

  const close = () => {
    const current = socket;
    const subscribed = onSocket;
    socket = undefined;
    onSocket = new Set();
    behindUntilAck = new Map();
    settleClosed(subscribed);
    clearTimers();
    if (current) {
      current.onopen = current.onclose = current.onerror = current.onmessage = null;
      current.close(1000, 'client closed');
    }
    if (store && state().live.connected)
      dispatch({ type: 'live/connection', payload: { connected: false } });
  };

  const scheduleReconnect = () => {
    if (!running || reconnectTimer) return;
    failures++;
    reconnectTimer = setTimeout(
      () => {
        reconnectTimer = undefined;
        sync();
      },
      backoffDelay(failures, backoff, random),
    );
  };

  /**
   * Opens the socket: at once without a token provider (or one that answers synchronously),
   * else once the token comes. No token, or a provider that failed: tried again after a backoff.
   */
  const connect = () => {
    if (!Socket) throw new Error('No WebSocket: pass options.WebSocket (the ws package in Node)');
    if (!options.token) return open(url);
    let answer: ReturnType<TokenProvider>;
    try {
      answer = options.token(refusedLast ? { refresh: true } : undefined);
    } catch {
      return scheduleReconnect();
    }
    if (typeof answer === 'string' || answer === undefined) return openWith(answer);
    connecting = true;
    answer.then(
      (token) => {
        connecting = false;
        // Stopped, or nothing to follow any more, while the token came.
        if (!running || socket || followed().length === 0) return;
        openWith(token);
      },
      () => {
        connecting = false;
        scheduleReconnect();
      },
    );
  };

  const openWith = (token: string | undefined) =>
    token === undefined ? scheduleReconnect() : open(urlWithToken(url, token));

  const open = (socketUrl: string) => {
    const current = new Socket!(socketUrl);
    let opened = false;
    socket = current;
    onSocket = new Set();
    behindUntilAck = new Map();
    current.onopen = () => {
      opened = true;
      refusedLast = false;
      failures = 0;
      // Resync: each row is read (when needed) once its subscription is acknowledged.
      for (const key of followed()) subscribeOnSocket(key);
      dispatch({ type: 'live/connection', payload: { connected: true } });
      // A subscribe is an app message the server answers without error: it keeps the socket
      // active (ping frames do not count) and re-asserts the subscription.
      heartbeatTimer = setInterval(() => {
        const first = followed()[0];
        if (first) send({ action: 'subscribe', ...parseKey(first) });
      }, heartbeatMs);
      maxAgeTimer = setTimeout(() => {
        close();
        sync();
      }, maxConnectionMs);
    };
    current.onmessage = (event) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (!store) return;
      const answer = subscribeAnswerOf(message);
      if (answer) return onAnswer(answer);
      const change = changedMessageOf(message);
      if (!change) return;
      const followedState = state().live.subscriptions[change.id];
      const aggregate = aggregateOfView(change.viewName);
      // A push of another view for the same id (another collection's topic) is not ours.
      if (!followedState || !aggregate || aggregate.collection !== followedState.collection) return;
      const known = state().confirmed[change.id]?.version ?? 0;
      if (change.version <= Math.max(known, followedState.lastVersion)) return;
      const { id, version } = change;
      const folded =
        change.events &&
        foldPushedEvents(aggregate, serverStateOf(state(), id), {
          id,
          version,
          events: change.events,
        });
      if (change.deleted) dispatch({ type: 'view/pushed', payload: { id, version, view: null } });
      else if (folded) dispatch({ type: 'view/pushed', payload: { id, ...folded } });
      else if (change.row !== undefined)
        dispatch({
          type: 'view/pushed',
          payload: { id, version, view: visibleIn(aggregate, change.row) },
        });
      else {
        const key = keyOf(followedState.collection, id);
        // Not acknowledged yet (events that follow nothing held, e.g. right after subscribing):
        // the acknowledgement's read covers them, so nothing is read before it.
        if (change.events && followedState.status === 'pending' && onSocket.has(key)) {
          behindUntilAck.set(key, Math.max(version, behindUntilAck.get(key) ?? 0));
        } else void fetchRow(key, version);
      }
    };
    current.onerror = () => undefined;
    current.onclose = () => {
      if (socket !== current) return;
      const subscribed = onSocket;
      socket = undefined;
      onSocket = new Set();
      behindUntilAck = new Map();
      settleClosed(subscribed);
      clearTimers();
      dispatch({ type: 'live/connection', payload: { connected: false } });
      refusedLast = !opened;
      scheduleReconnect();
    };
  };

  const middleware: Middleware = (storeApi) => {
    store = storeApi as MiddlewareAPI<Dispatch, Root>;
    running = true;
    return (next) => (action) => {
      const before = store ? state().live.subscriptions : undefined;
      const result = next(action);
      const after = state().live.subscriptions;
      // Only a change of what is followed: a status or version change must not open a socket
      // while a reconnect waits out its backoff.
      if (running && after !== before && !sameFollowed(before, after)) sync();
      return result;
    };
  };

  return {
    middleware,
    start() {
      running = true;
      sync();
    },
    stop() {
      running = false;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      close();
    },
    drop() {
      const current = socket;
      if (current) {
        current.close(4000, 'dropped');
        // Some implementations call onclose late: act as the network drop now.
        current.onclose?.({});
      }
    },
  };
};
