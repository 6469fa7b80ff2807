/**
 * Live updates through the Redux client on the real local runtime (both stacks): client A sends
 * commands over HTTP, client B follows the order over a real WebSocket (the `ws` package, as a
 * Node app injects it). A push reaches B without a read; after B's socket is dropped and 5
 * changes are made, B reconnects and its store catches up with no reload. A change made while
 * B's subscribe is in flight (a hook in the connections function's subscription store, before
 * or after it stores the subscription) reaches B; a subscribe the server refuses shows as failed.
 * A is alice (her orders: the token decides whose); B follows them with its own token in the
 * socket's URL: support (who reads every order) or alice herself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import WebSocket from 'ws';
import {
  clientReducer,
  createApiClient,
  createCommandClient,
  createLiveClient,
  type CommandDispatch,
  memoryStorage,
  selectLiveConnected,
  selectSubscriptionStatus,
  selectView,
  sendCommand,
  subscribeTo,
  type OrderView,
} from '../../client';
import { type Subscription, type SubscriptionStore, topicOf } from '../../lambdas/core/push/push';
import { PUSHED_COLLECTIONS } from '../../lambdas/handlers/deployment';
import { startLocalRuntime, type LocalRuntime } from '../../local/emulators/runtime';
import { testEndpoint } from '../support/dynamo';
import { TEST_POLLER } from '../support/runtime';

/** The push topic of one order (`order#<id>`): what a subscriber of that order listens to. */
const orderTopic = (id: string) => topicOf({ name: 'order' }, id);

/**
 * Run once, around the connections function's write of a subscription to this topic: the
 * deterministic "between subscribe and acknowledgement" of the tests below.
 */
const storeHooks = new Map<
  string,
  { readonly when: 'before' | 'after'; readonly run: () => Promise<void> }
>();
const runHook = async (subscription: Subscription, when: 'before' | 'after') => {
  const hook = storeHooks.get(subscription.topic);
  if (hook?.when !== when) return;
  storeHooks.delete(subscription.topic);
  await hook.run();
};
const withStoreHooks = (store: SubscriptionStore): SubscriptionStore => ({
  async add(subscription, maxPerConnection) {
    await runHook(subscription, 'before');
    const added = await store.add(subscription, maxPerConnection);
    await runHook(subscription, 'after');
    return added;
  },
  remove: (topic, connectionId) => store.remove(topic, connectionId),
  connectionsOf: (topic, nowSeconds) => store.connectionsOf(topic, nowSeconds),
  subscribersOf: (topic, nowSeconds) => store.subscribersOf(topic, nowSeconds),
  removeConnection: (connectionId) => store.removeConnection(connectionId),
});

let runtime: LocalRuntime;
let closedUrl: string;
beforeAll(async () => {
  runtime = await startLocalRuntime({
    dynamoDbEndpoint: testEndpoint(),
    decoupledPort: 0,
    coupledPort: 0,
    tablePrefix: `live${process.pid}`,
    poller: { ...TEST_POLLER, pollIntervalMs: 25 },
    push: { wrapSubscriptions: withStoreHooks },
    handlerLogLevel: 'SILENT',
    quiet: true,
    log: () => undefined,
  });
  // A port nothing listens on: a socket opened there fails as it does offline.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  closedUrl = `ws://127.0.0.1:${port}`;
});
afterAll(() => runtime.stop());

let ids = 0;
const newOrderId = () => `live-${process.pid}-${Date.now().toString(36)}-${ids++}`;

const eventually = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

type DevUser = 'alice' | 'support';

/** A client of one user on `on`'s identity provider: their token on every request and socket. */
const makeStore = (
  on: LocalRuntime,
  user: DevUser,
  baseUrl: string,
  websocketUrl?: string,
  heartbeatMs?: number,
) => {
  const token = () => on.identity.tokenFor(user);
  let reads = 0;
  let sockets = 0;
  let networkDown = false;
  /** B's reads (`GET <path>`) and received messages (`<type> <version>`), in order. */
  const trace: string[] = [];
  const api = createApiClient({
    baseUrl,
    timeoutMs: 5000,
    token,
    fetch: (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') {
        reads++;
        trace.push(`GET ${new URL(String(input)).pathname}`);
      }
      return fetch(input, init);
    },
  });
  const commands = createCommandClient({ api, channel: null, storage: memoryStorage() });
  // While the network is "down", every socket goes to a closed port and fails.
  class FlakySocket extends WebSocket {
    constructor(url: string) {
      super(networkDown ? closedUrl : url);
      sockets++;
      this.on('message', (data) => {
        const { type, version } = JSON.parse(String(data)) as { type: string; version?: number };
        trace.push(`${type} ${version}`);
      });
    }
  }
  const live = websocketUrl
    ? createLiveClient({
        url: websocketUrl,
        api,
        WebSocket: FlakySocket,
        token,
        backoff: { baseMs: 50, maxMs: 200, jitter: 0.5 },
        ...(heartbeatMs !== undefined && { heartbeatMs }),
      })
    : undefined;
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(commands.middleware, ...(live ? [live.middleware] : [])),
  );
  const dispatch = store.dispatch as CommandDispatch;
  return {
    store,
    dispatch,
    commands,
    live,
    reads: () => reads,
    trace,
    sockets: () => sockets,
    setNetworkDown: (down: boolean) => (networkDown = down),
    order: (id: string) => selectView<OrderView>(store.getState().client, id),
    connected: () => selectLiveConnected(store.getState().client),
    async stop() {
      live?.stop();
      await commands.stop();
    },
  };
};

describe.each(['coupled', 'decoupled'] as const)('%s: client subscriptions', (stack) => {
  const base = () => (stack === 'coupled' ? runtime.coupledUrl! : runtime.decoupledUrl!);
  const wsUrl = () => runtime.websocketUrls[stack]!;

  test('B sees A’s change by push; after a dropped socket and 5 changes, B catches up', async () => {
    const a = makeStore(runtime, 'alice', base());
    const b = makeStore(runtime, 'support', base(), wsUrl());
    const id = newOrderId();
    try {
      await expect(
        a.dispatch(
          sendCommand({
            type: 'order/create',
            aggregateId: id,
            payload: { currency: 'EUR' },
          }),
        ),
      ).resolves.toMatchObject({ state: 'confirmed', version: 1 });

      b.store.dispatch(subscribeTo('orders', id));
      await eventually(() => b.connected() && b.order(id)?.version === 1, 'B subscribed at v1');

      // A push, not a read: B makes no GET for it (the row travels inline).
      const readsBefore = b.reads();
      const addLine = (n: number) =>
        a.dispatch(
          sendCommand({
            type: 'order/addLine',
            aggregateId: id,
            payload: { lineId: `l${n}`, sku: 'sku', quantity: 1, unitPrice: 100 },
          }),
        );
      await addLine(0);
      await eventually(() => b.order(id)?.version === 2, 'B sees v2 by push');
      expect(b.reads()).toBe(readsBefore);

      // Drop B's socket and keep it down while A makes 5 changes.
      b.setNetworkDown(true);
      b.live!.drop();
      await eventually(() => !b.connected(), 'B disconnected');
      for (let n = 1; n <= 5; n++) await addLine(n);
      // Let the notifier post (to nobody for B) before B comes back.
      await new Promise((r) => setTimeout(r, 300));
      expect(b.order(id)?.version).toBe(2);

      b.setNetworkDown(false);
      await eventually(() => b.connected() && b.order(id)?.version === 7, 'B caught up to v7');
      expect(b.order(id)).toMatchObject({ lineCount: 6 });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe.each(['coupled', 'decoupled'] as const)(
  '%s: a change between subscribe and acknowledgement',
  (stack) => {
    const base = () => (stack === 'coupled' ? runtime.coupledUrl! : runtime.decoupledUrl!);
    const wsUrl = () => runtime.websocketUrls[stack]!;

    test.each(['before', 'after'] as const)(
      'made %s the subscription is stored, it reaches B (the ack carries it, the read follows the ack)',
      async (when) => {
        const a = makeStore(runtime, 'alice', base());
        const b = makeStore(runtime, 'alice', base(), wsUrl());
        const id = newOrderId();
        try {
          await a.dispatch(
            sendCommand({
              type: 'order/create',
              aggregateId: id,
              payload: { currency: 'EUR' },
            }),
          );
          // While B's subscribe is being handled: A adds a line, and the row shows it.
          storeHooks.set(orderTopic(id), {
            when,
            run: async () => {
              await expect(
                a.dispatch(
                  sendCommand({
                    type: 'order/addLine',
                    aggregateId: id,
                    payload: { lineId: 'l1', sku: 'sku', quantity: 1, unitPrice: 100 },
                  }),
                ),
              ).resolves.toMatchObject({ state: 'confirmed', version: 2 });
              const row = await fetch(`${base()}/orders/${id}?minVersion=2`, {
                headers: { authorization: `Bearer ${runtime.identity.tokenFor('alice')}` },
              });
              expect(row.status).toBe(200);
            },
          });

          b.store.dispatch(subscribeTo('orders', id));
          // The push of v2 may reach B before the acknowledgement does (the change is made while
          // the subscribe is being handled): wait for both.
          await eventually(
            () =>
              b.order(id)?.version === 2 &&
              selectSubscriptionStatus(b.store.getState().client, id)?.status === 'confirmed',
            'B at v2, its subscription acknowledged',
          );
          expect(b.order(id)).toMatchObject({ lineCount: 1 });
          expect(storeHooks.has(orderTopic(id))).toBe(false);
          // The ack carried v2: read after the subscription was stored.
          const ack = b.trace.indexOf('subscribed 2');
          expect(ack).toBeGreaterThanOrEqual(0);
          // B read nothing before the ack (before: right after sending subscribe).
          const firstRead = b.trace.findIndex((line) => line.startsWith('GET '));
          if (firstRead !== -1) expect(firstRead).toBeGreaterThan(ack);
          expect(selectSubscriptionStatus(b.store.getState().client, id)).toMatchObject({
            status: 'confirmed',
          });
        } finally {
          storeHooks.delete(orderTopic(id));
          await a.stop();
          await b.stop();
        }
      },
    );
  },
);

test('a subscribe to a collection the server does not have shows as failed in B’s state', async () => {
  const b = makeStore(runtime, 'alice', runtime.decoupledUrl!, runtime.websocketUrls.decoupled!);
  try {
    const id = newOrderId();
    b.store.dispatch(subscribeTo('invoices', id));
    await eventually(
      () => selectSubscriptionStatus(b.store.getState().client, id)?.status === 'failed',
      'the subscription failed',
    );
    expect(selectSubscriptionStatus(b.store.getState().client, id)).toMatchObject({
      collection: 'invoices',
      status: 'failed',
      error: {
        code: 'NOT_FOUND',
        details: {
          collection: 'invoices',
          collections: PUSHED_COLLECTIONS.map(({ collection }) => collection),
        },
      },
    });
    // The socket stays up for the others.
    expect(b.connected()).toBe(true);
  } finally {
    await b.stop();
  }
});

describe('the heartbeat keeps the socket under the idle timeout', () => {
  let short: LocalRuntime;
  beforeAll(async () => {
    // The gateway's idle timeout cut to 1 s (API Gateway's is 10 minutes).
    short = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      stacks: ['coupled'],
      coupledPort: 0,
      tablePrefix: `liveidle${process.pid}`,
      push: { idleTimeoutMs: 1000 },
      poller: { ...TEST_POLLER, pollIntervalMs: 25 },
      handlerLogLevel: 'SILENT',
      quiet: true,
      log: () => undefined,
    });
  });
  afterAll(() => short.stop());

  test.each([
    ['with a heartbeat every 300 ms: one socket throughout', 300, true],
    ['without one (every 60 s): closed as idle, reconnected', 60_000, false],
  ])('%s', async (_, heartbeatMs, kept) => {
    const b = makeStore(
      short,
      'alice',
      short.coupledUrl!,
      short.websocketUrls.coupled!,
      heartbeatMs,
    );
    try {
      b.store.dispatch(subscribeTo('orders', newOrderId()));
      await eventually(() => b.connected(), 'B connected');
      await new Promise((r) => setTimeout(r, 2500));
      if (kept) expect(b.sockets()).toBe(1);
      else expect(b.sockets()).toBeGreaterThan(1);
      await eventually(() => b.connected(), 'B connected again');
    } finally {
      await b.stop();
    }
  });
});
