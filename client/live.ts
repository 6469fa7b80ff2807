/**
 * Live updates for the Redux client: a WebSocket to the stack's WebSocket API that follows the
 * ids in `state.live.subscriptions`, each in its collection
 * (`dispatch(subscribeTo('shopping-lists', id))`). A push above the known version is taken
 * inline, or fetched with `?minVersion` when only a poke came. Every connect and reconnect
 * re-subscribes and re-reads (GET) every followed id, so a change made while the socket was
 * down is never missed: pushes are hints, the resync is the guarantee.
 * No Node module here: in Node pass the `ws` package's class as `WebSocket`.
 */
import type { Dispatch, Middleware, MiddlewareAPI, UnknownAction } from 'redux';
import { ApiError, type ApiClient } from './api';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import type { ClientAction, ClientState } from './state';
import { aggregateOfView, type DeploymentView, visibleIn } from './aggregates';

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
}

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
}

const changedMessageOf = (message: unknown): ChangedMessage | undefined => {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, id, version } = message as { type?: unknown; id?: unknown; version?: unknown };
  const [, viewName, change] = /^(.+)\/(changed|deleted)$/.exec(String(type)) ?? [];
  if (!viewName || typeof id !== 'string' || typeof version !== 'number') return undefined;
  const row = (message as Record<string, unknown>)[viewName] as DeploymentView | undefined;
  return { viewName, deleted: change === 'deleted', id, version, ...(row && { row }) };
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

  /** Reads the row at (at least) `minVersion` and feeds it in; a missing one is skipped. */
  const fetchRow = async (key: string, minVersion?: number) => {
    const { collection, id } = parseKey(key);
    try {
      const view = await api.getView(
        collection,
        id,
        minVersion === undefined ? {} : { minVersion },
      );
      if (store && state().live.subscriptions[id]?.collection === collection)
        dispatch({ type: 'view/pushed', payload: { id, version: view.version, view } });
    } catch (error) {
      // 404: not created yet (a later push brings it). Anything else: the next resync heals it.
      if (!(error instanceof ApiError)) return;
    }
  };

  const subscribeOnSocket = (key: string) => {
    onSocket.add(key);
    send({ action: 'subscribe', ...parseKey(key) });
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
    if (!socket) return connect();
    if (socket.readyState !== OPEN) return;
    for (const key of ids) {
      if (!onSocket.has(key)) {
        subscribeOnSocket(key);
        void fetchRow(key);
      }
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
    socket = undefined;
    onSocket = new Set();
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

  const connect = () => {
    if (!Socket) throw new Error('No WebSocket: pass options.WebSocket (the ws package in Node)');
    const current = new Socket(url);
    socket = current;
    onSocket = new Set();
    current.onopen = () => {
      failures = 0;
      // Resync: subscribe first, then read, so no change falls between the read and the push.
      for (const key of followed()) subscribeOnSocket(key);
      for (const key of followed()) void fetchRow(key);
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
      const change = changedMessageOf(message);
      if (!change || !store) return;
      const followedState = state().live.subscriptions[change.id];
      const aggregate = aggregateOfView(change.viewName);
      // A push of another view for the same id (another collection's topic) is not ours.
      if (!followedState || !aggregate || aggregate.collection !== followedState.collection) return;
      const known = state().confirmed[change.id]?.version ?? 0;
      if (change.version <= Math.max(known, followedState.lastVersion)) return;
      const { id, version } = change;
      if (change.deleted) dispatch({ type: 'view/pushed', payload: { id, version, view: null } });
      else if (change.row !== undefined)
        dispatch({
          type: 'view/pushed',
          payload: { id, version, view: visibleIn(aggregate, change.row) },
        });
      else void fetchRow(keyOf(followedState.collection, id), version);
    };
    current.onerror = () => undefined;
    current.onclose = () => {
      if (socket !== current) return;
      socket = undefined;
      onSocket = new Set();
      clearTimers();
      dispatch({ type: 'live/connection', payload: { connected: false } });
      scheduleReconnect();
    };
  };

  const middleware: Middleware = (storeApi) => {
    store = storeApi as MiddlewareAPI<Dispatch, Root>;
    running = true;
    return (next) => (action) => {
      const before = store ? state().live.subscriptions : undefined;
      const result = next(action);
      if (running && state().live.subscriptions !== before) sync();
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
