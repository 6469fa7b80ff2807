/**
 * Live updates through the Redux client on the real local runtime (both stacks): client A sends
 * commands over HTTP, client B follows the order over a real WebSocket (the `ws` package, as a
 * Node app injects it). A push reaches B without a read; after B's socket is dropped and 5
 * changes are made, B reconnects and its store catches up with no reload.
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
  selectView,
  sendCommand,
  subscribeTo,
  type OrderView,
} from '../../client';
import { startLocalRuntime, type LocalRuntime } from '../../local/emulators/runtime';
import { testEndpoint } from '../support/dynamo';

let runtime: LocalRuntime;
let closedUrl: string;
beforeAll(async () => {
  runtime = await startLocalRuntime({
    dynamoDbEndpoint: testEndpoint(),
    decoupledPort: 0,
    coupledPort: 0,
    tablePrefix: `live${process.pid}`,
    poller: { pollIntervalMs: 25 },
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

const makeStore = (baseUrl: string, websocketUrl?: string, heartbeatMs?: number) => {
  let reads = 0;
  let sockets = 0;
  let networkDown = false;
  const api = createApiClient({
    baseUrl,
    timeoutMs: 5000,
    fetch: (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') reads++;
      return fetch(input, init);
    },
  });
  const commands = createCommandClient({ api, channel: null, storage: memoryStorage() });
  // While the network is "down", every socket goes to a closed port and fails.
  class FlakySocket extends WebSocket {
    constructor(url: string) {
      super(networkDown ? closedUrl : url);
      sockets++;
    }
  }
  const live = websocketUrl
    ? createLiveClient({
        url: websocketUrl,
        api,
        WebSocket: FlakySocket,
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
    const a = makeStore(base());
    const b = makeStore(base(), wsUrl());
    const id = newOrderId();
    try {
      await expect(
        a.dispatch(
          sendCommand({
            type: 'order/create',
            aggregateId: id,
            payload: { customerId: 'c-live', currency: 'EUR' },
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
      poller: { pollIntervalMs: 25 },
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
    const b = makeStore(short.coupledUrl!, short.websocketUrls.coupled!, heartbeatMs);
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
