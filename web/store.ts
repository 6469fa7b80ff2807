/**
 * The demo's Redux store: the client library's slice and middleware, and the demo's own slice
 * (web/demo-state.ts: the activity list, the aggregates the server lost). The app adds a copy of
 * the confirmed views (orders, shopping lists) in localStorage, so a reload while offline still
 * shows what the pending commands apply to (the outbox is the client's), and of the activity.
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
  viewLoaded,
} from '../client';
import { type DemoState, demoReducer, initialDemoState, restoreActivity } from './demo-state';

export type StackName = 'decoupled' | 'coupled';

export interface RootState {
  readonly client: ClientState;
  readonly demo: DemoState;
}

export interface DemoStore {
  readonly stack: StackName;
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

const confirmedKey = (stack: StackName) => `demo:${stack}:confirmed`;
const activityKey = (stack: StackName) => `demo:${stack}:activity`;

const readActivity = (stack: StackName) => {
  try {
    return restoreActivity(JSON.parse(localStorage.getItem(activityKey(stack)) ?? '[]'));
  } catch {
    return [];
  }
};

/** `viewLoaded` as an action any Redux store accepts. */
export const loaded = (view: DeploymentView): UnknownAction => viewLoaded(view);

export const createDemoStore = (
  stack: StackName,
  baseUrl: string,
  websocketUrl?: string,
): DemoStore => {
  // Short timeouts: a demo should show "pending, retrying" quickly when the API is away.
  const api = createApiClient({ baseUrl, timeoutMs: 5000 });
  const name = `orders-demo-${stack}`;
  const client = createCommandClient<RootState>({ api, name });
  // The browser's own WebSocket: nothing to inject here.
  const live = websocketUrl ? createLiveClient<RootState>({ url: websocketUrl, api }) : undefined;
  const store = buildStore(name, client, live, {
    ...initialDemoState,
    activity: readActivity(stack),
  });

  try {
    const saved = JSON.parse(localStorage.getItem(confirmedKey(stack)) ?? '{}') as Record<
      string,
      { view: DeploymentView | null }
    >;
    for (const { view } of Object.values(saved)) if (view) store.dispatch(loaded(view));
  } catch {
    localStorage.removeItem(confirmedKey(stack));
  }
  let last: ClientState['confirmed'] | undefined;
  let lastActivity = store.getState().demo.activity;
  store.subscribe(() => {
    const { client: clientState, demo } = store.getState();
    if (demo.activity !== lastActivity) {
      lastActivity = demo.activity;
      localStorage.setItem(activityKey(stack), JSON.stringify(demo.activity));
    }
    const { confirmed } = clientState;
    if (confirmed === last) return;
    last = confirmed;
    localStorage.setItem(confirmedKey(stack), JSON.stringify(confirmed));
  });
  return { stack, api, client, ...(live && { live }), store };
};

/**
 * The aggregates of a collection this browser created or opened for an owner (a customer's
 * orders, an owner's shopping lists): the server's list lags behind, and is away offline.
 */
export const knownIds = {
  key: (stack: StackName, collection: string, ownerId: string) =>
    `demo:${stack}:${collection}:${ownerId}`,
  read(stack: StackName, collection: string, ownerId: string): string[] {
    try {
      const saved = localStorage.getItem(this.key(stack, collection, ownerId));
      return JSON.parse(saved ?? '[]') as string[];
    } catch {
      return [];
    }
  },
  add(stack: StackName, collection: string, ownerId: string, id: string) {
    const ids = this.read(stack, collection, ownerId);
    if (!ids.includes(id)) {
      localStorage.setItem(this.key(stack, collection, ownerId), JSON.stringify([id, ...ids]));
    }
  },
};
