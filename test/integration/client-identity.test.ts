/**
 * The signed-in Redux client against the real local runtime (its gateways verify every token
 * against the dev identity provider's keys), both stacks: an expired token refreshed once and
 * the command applied once; a token refused even after a refresh holds the command unsent until
 * the user signs in again; one user's queued commands never sent by another user's client on
 * the same outbox; the prediction of a forbidden command equal to the server's 403; a socket
 * refused with an expired token reconnected with a fresh one.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import WebSocket from 'ws';
import type { StoredEvent } from '../../lambdas/core/events/events';
import {
  clientReducer,
  type CommandDispatch,
  createApiClient,
  createCommandClient,
  createLiveClient,
  memoryStorage,
  type OutboxStorage,
  selectLiveConnected,
  selectOptimisticView,
  selectSignInRequired,
  sendCommand,
  subscribeTo,
  type TokenProvider,
} from '../../client';
import { jsonFileStorage } from '../../client/node';
import { useLocalRuntime } from '../support/runtime';

const local = useLocalRuntime(`cid${process.pid}`, { poller: { pollIntervalMs: 25 } });

type DevUser = 'alice' | 'bob' | 'support';
const tokenOf = (user: DevUser, options?: { ttlSeconds?: number; audience?: string }) =>
  local.current.identity.tokenFor(user, options);

let ids = 0;
const newOrderId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${ids++}`;

/** A provider that answers `first`, and a fresh token of `user` when asked to refresh. */
const refreshing = (user: DevUser, first: string) => {
  const asked: Array<boolean | undefined> = [];
  const provider: TokenProvider = (options) => {
    asked.push(options?.refresh);
    return options?.refresh ? tokenOf(user) : first;
  };
  return { provider, asked };
};

const clientStore = (baseUrl: string, token: TokenProvider, storage: OutboxStorage) => {
  const api = createApiClient({ baseUrl, timeoutMs: 5000, token });
  const client = createCommandClient({
    api,
    storage,
    channel: null,
    backoff: { baseMs: 20, maxMs: 100, jitter: 0 },
  });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  const send: CommandDispatch = store.dispatch;
  return { api, client, store, send };
};

const eventsOf = async (baseUrl: string, id: string): Promise<StoredEvent[]> => {
  const response = await fetch(`${baseUrl}/orders/${id}/events`, {
    headers: { authorization: `Bearer ${tokenOf('alice')}` },
  });
  return response.status === 404
    ? []
    : ((await response.json()) as { events: StoredEvent[] }).events;
};

/** A port nothing listens on: every send fails as it does offline. */
const closedPort = async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
};

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.each(['decoupled', 'coupled'] as const)('the %s stack', (stack) => {
  const url = () =>
    stack === 'decoupled' ? local.current.decoupledUrl! : local.current.coupledUrl!;

  test('given an expired token, when a command is sent, then one refreshed token applies it once', async () => {
    const id = newOrderId('expired');
    const { provider, asked } = refreshing('alice', tokenOf('alice', { ttlSeconds: -60 }));
    const { client, send } = clientStore(url(), provider, memoryStorage());
    await client.start();

    const outcome = await send(
      sendCommand({ type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } }),
    );

    expect(outcome).toMatchObject({ state: 'confirmed', version: 1 });
    expect(asked.filter((refresh) => refresh === true)).toHaveLength(1);
    const events = await eventsOf(url(), id);
    expect(events.map((e) => [e.type, (e.payload as { customerId?: string }).customerId])).toEqual([
      ['order/created', 'alice'],
    ]);
    await client.stop();
  });

  test('given a token refused even after a refresh, when a command is sent, then it waits unsent until the user signs in again', async () => {
    const id = newOrderId('refused');
    // A token for another app client (audience): the gateway refuses it, the refresh too.
    let token = tokenOf('alice', { audience: 'another-app' });
    const { client, store, send } = clientStore(url(), () => token, memoryStorage());
    await client.start();

    const created = send(
      sendCommand({ type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } }),
    );
    await until(() => selectSignInRequired(store.getState().client) !== null, 'sign-in required');
    expect(selectSignInRequired(store.getState().client)).toMatchObject({ reason: 'refused' });
    expect(store.getState().client.outbox).toHaveLength(1);
    expect(await eventsOf(url(), id)).toEqual([]);

    token = tokenOf('alice');
    await client.signedIn();

    expect(await created).toMatchObject({ state: 'confirmed', version: 1 });
    expect((await eventsOf(url(), id)).map((e) => e.commandId)).toEqual([created.commandId]);
    await client.stop();
  });

  test("given alice's commands queued offline in one outbox file, when bob's client starts on it, then none is sent; alice's client sends them", async () => {
    const id = newOrderId('mine');
    const path = join(mkdtempSync(join(tmpdir(), 'client-identity-')), 'outbox.json');
    const offline = clientStore(await closedPort(), () => tokenOf('alice'), jsonFileStorage(path));
    await offline.client.start();
    const queued = [
      offline.send(
        sendCommand({ type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } }),
      ),
      offline.send(
        sendCommand({
          type: 'order/addLine',
          aggregateId: id,
          payload: { lineId: 'l1', sku: 'S', quantity: 1, unitPrice: 100 },
        }),
      ),
    ];
    await until(() => !offline.store.getState().client.online, 'offline');
    await offline.client.stop();

    const bob = clientStore(url(), () => tokenOf('bob'), jsonFileStorage(path));
    await bob.client.start();
    await bob.client.idle();
    expect(bob.store.getState().client.outbox).toEqual([]);
    expect(await eventsOf(url(), id)).toEqual([]);
    await bob.client.stop();

    const alice = clientStore(url(), () => tokenOf('alice'), jsonFileStorage(path));
    await alice.client.start();
    await alice.client.idle();
    expect((await eventsOf(url(), id)).map((e) => e.commandId)).toEqual(
      queued.map((p) => p.commandId),
    );
    expect(await jsonFileStorage(path).load()).toEqual([]);
    await alice.client.stop();
  });

  test("given support and alice's order, when support adds a line, then the prediction is the server's 403", async () => {
    const id = newOrderId('support');
    const alice = clientStore(url(), () => tokenOf('alice'), memoryStorage());
    await alice.client.start();
    await alice.send(
      sendCommand({ type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } }),
    );
    const support = clientStore(url(), () => tokenOf('support'), memoryStorage());
    await support.client.start();
    await support.client.loadView('orders', id, { minVersion: 1 });

    const added = support.send(
      sendCommand({
        type: 'order/addLine',
        aggregateId: id,
        payload: { lineId: 'l1', sku: 'S', quantity: 1, unitPrice: 100 },
      }),
    );
    const predicted = selectOptimisticView(support.store.getState().client, id).pending[0]!;
    const outcome = await added;

    expect(outcome.state).toBe('rejected');
    const { code, status, message, details } = outcome as typeof outcome & {
      code: string;
      status: number;
      message: string;
      details: Record<string, unknown>;
    };
    expect(predicted.wouldReject).toEqual({ code, status, message, details });
    expect(details).toMatchObject({ rule: 'OWNER_ONLY' });
    await Promise.all([alice.client.stop(), support.client.stop()]);
  });

  test('given an expired token, when the live socket connects, then it is refused and reconnects with a refreshed one', async () => {
    const { provider, asked } = refreshing('alice', tokenOf('alice', { ttlSeconds: -60 }));
    const api = createApiClient({ baseUrl: url(), token: provider });
    const live = createLiveClient({
      url: local.current.websocketUrls[stack]!,
      api,
      WebSocket,
      token: provider,
      backoff: { baseMs: 20, maxMs: 50, jitter: 0 },
    });
    const store = legacy_createStore(
      combineReducers({ client: clientReducer }),
      applyMiddleware(live.middleware),
    );
    try {
      store.dispatch(subscribeTo('orders', newOrderId('live')));
      await until(() => selectLiveConnected(store.getState().client), 'connected');
      expect(asked.slice(0, 2)).toEqual([undefined, true]);
    } finally {
      live.stop();
    }
  });
});
