/**
 * The demo's Redux store, one per signed-in user and stack: the client library's slice and
 * middleware, and the demo's own slice (web/demo-state.ts: the activity list, the aggregates the
 * server lost). Each user has their own outbox (an IndexedDB database, lock and channel named
 * after them), and the app keeps a copy of their confirmed views (orders, shopping lists) and
 * activity in localStorage under their own keys, so a reload while offline still shows what the
 * pending commands apply to; signing out removes all of it (web/session.ts).
 * Redux DevTools, when the extension is there, sees every action: the commands
 * (`command/queued`), their answers with the events (`command/confirmed`), pushes and queries.
 */
import {
  applyMiddleware,
  combineReducers,
  compose,
  legacy_createStore,
  type StoreEnhancer,
  type UnknownAction,
} from 'redux';
import {
  type ApiClient,
  type ClientState,
  clientReducer,
  type CommandClient,
  type CommandDispatch,
  createApiClient,
  createCommandClient,
  createLiveClient,
  type LiveClient,
  type DeploymentView,
  type TokenProvider,
  viewLoaded,
} from '../client';
import { type DemoState, demoReducer, initialDemoState, restoreActivity } from './demo-state';
import { clientNameOf, userKeyPrefix } from './session';

export type StackName = 'decoupled' | 'coupled';

export interface RootState {
  readonly client: ClientState;
  readonly demo: DemoState;
}

export interface DemoStore {
  readonly stack: StackName;
  /** The signed-in user (the token's subject). */
  readonly user: string;
  readonly api: ApiClient;
  readonly client: CommandClient;
  /** Live updates for the open order or list; absent when the stack has no WebSocket URL. */
  readonly live?: LiveClient;
  readonly store: ReturnType<typeof buildStore>;
}

type ComposeEnhancers = (...enhancers: StoreEnhancer[]) => StoreEnhancer;

/** The Redux DevTools extension's compose, named after the store, or redux's own. */
const composeEnhancers = (name: string): ComposeEnhancers =>
  (
    globalThis as {
      __REDUX_DEVTOOLS_EXTENSION_COMPOSE__?: (options: { name: string }) => ComposeEnhancers;
    }
  ).__REDUX_DEVTOOLS_EXTENSION_COMPOSE__?.({ name }) ?? compose;

const buildStore = (
  name: string,
  client: CommandClient,
  live: LiveClient | undefined,
  demo: DemoState,
) =>
  legacy_createStore(
    combineReducers({ client: clientReducer, demo: demoReducer }),
    { demo },
    composeEnhancers(name)(applyMiddleware(client.middleware, ...(live ? [live.middleware] : []))),
  );

export type AppDispatch = CommandDispatch & ReturnType<typeof buildStore>['dispatch'];

/** Where a user's data on a stack is kept (localStorage and sessionStorage keys). */
export const userKey = (user: string, stack: StackName, what: string) =>
  `${userKeyPrefix(user)}${stack}:${what}`;

const readActivity = (key: string) => {
  try {
    return restoreActivity(JSON.parse(localStorage.getItem(key) ?? '[]'));
  } catch {
    return [];
  }
};

/** `viewLoaded` as an action any Redux store accepts. */
export const loaded = (view: DeploymentView): UnknownAction => viewLoaded(view);

export interface DemoStoreOptions {
  readonly stack: StackName;
  readonly baseUrl: string;
  /** The stack's WebSocket URL (absent: no live updates). */
  readonly websocketUrl?: string;
  /** The signed-in user, and their token provider (web/session.ts). */
  readonly user: string;
  readonly token: TokenProvider;
}

export const createDemoStore = ({
  stack,
  baseUrl,
  websocketUrl,
  user,
  token,
}: DemoStoreOptions): DemoStore => {
  // Short timeouts: a demo should show "pending, retrying" quickly when the API is away.
  const api = createApiClient({ baseUrl, timeoutMs: 5000, token });
  // The user's own outbox, lock and channel: another user's tab never sends their commands.
  const name = clientNameOf(stack, user);
  const client = createCommandClient<RootState>({ api, name });
  // The browser's own WebSocket: nothing to inject here.
  const live = websocketUrl
    ? createLiveClient<RootState>({ url: websocketUrl, api, token })
    : undefined;
  const confirmedKey = userKey(user, stack, 'confirmed');
  const activityKey = userKey(user, stack, 'activity');
  const store = buildStore(name, client, live, {
    ...initialDemoState,
    activity: readActivity(activityKey),
  });

  try {
    const saved = JSON.parse(localStorage.getItem(confirmedKey) ?? '{}') as Record<
      string,
      { view: DeploymentView | null }
    >;
    for (const { view } of Object.values(saved)) if (view) store.dispatch(loaded(view));
  } catch {
    localStorage.removeItem(confirmedKey);
  }
  let last: ClientState['confirmed'] | undefined;
  let lastActivity = store.getState().demo.activity;
  store.subscribe(() => {
    const { client: clientState, demo } = store.getState();
    // Before the sign-in is read, and once signed out (their keys were just removed): nothing
    // of the user is written.
    if (clientState.principal === null) return;
    if (demo.activity !== lastActivity) {
      lastActivity = demo.activity;
      localStorage.setItem(activityKey, JSON.stringify(demo.activity));
    }
    const { confirmed } = clientState;
    if (confirmed === last) return;
    last = confirmed;
    localStorage.setItem(confirmedKey, JSON.stringify(confirmed));
  });
  return { stack, user, api, client, ...(live && { live }), store };
};

/**
 * The aggregates of a collection this browser created or opened for its user (their orders,
 * their shopping lists): the server's list lags behind, and is away offline.
 */
export const knownIds = {
  key: (demo: DemoStore, collection: string) => userKey(demo.user, demo.stack, `ids:${collection}`),
  read(demo: DemoStore, collection: string): string[] {
    try {
      return JSON.parse(localStorage.getItem(this.key(demo, collection)) ?? '[]') as string[];
    } catch {
      return [];
    }
  },
  add(demo: DemoStore, collection: string, id: string) {
    const ids = this.read(demo, collection);
    if (!ids.includes(id)) {
      localStorage.setItem(this.key(demo, collection), JSON.stringify([id, ...ids]));
    }
  },
};
