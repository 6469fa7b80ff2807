/**
 * The Redux client against the real local runtime over HTTP, both profiles: commands
 * dispatched offline survive a restart and are applied exactly once, in order; a lost answer is
 * resent and replayed; a rejection in the middle does not block what follows; two clients on
 * one outbox never send a command twice. Every client is alice's (her token on each request):
 * the orders name no customer, the token decides.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMiddleware, combineReducers, legacy_createStore, type Middleware } from 'redux';
import type { StoredEvent } from '../../lambdas/core/events/events';
import {
  broadcastChannel,
  type ClientCommand,
  clientReducer,
  createApiClient,
  createCommandClient,
  type CommandClientOptions,
  type CommandDispatch,
  memoryLock,
  memoryStorage,
  selectView,
  sendCommand,
  type OrderView,
} from '../../client';
import { jsonFileStorage } from '../../client/node';
import { useLocalRuntime } from '../support/runtime';

// No fulfilment workflow: these tests count each order's events, the client's own only.
const local = useLocalRuntime(`cl${process.pid}`, {
  poller: { pollIntervalMs: 25 },
  workflows: { enabled: false },
});

let ids = 0;
const newOrderId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${ids++}`;

/** A port nothing listens on: every send fails as it does offline. */
const closedPort = async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
};

const fastRetry = { baseMs: 20, maxMs: 100, jitter: 0 };

/** Alice's ID token from the runtime's identity provider. */
const alice = () => local.current.identity.tokenFor('alice');
const asAlice = () => ({ headers: { authorization: `Bearer ${alice()}` } });

/** A store with alice's client, recording every action it sees. */
const clientStore = (baseUrl: string, options: Partial<CommandClientOptions> = {}) => {
  const sent: string[] = [];
  const api = createApiClient({
    baseUrl,
    timeoutMs: 5000,
    token: alice,
    fetch: (input, init) => {
      if (init?.method === 'POST')
        sent.push((JSON.parse(String(init.body)) as { commandId: string }).commandId);
      return fetch(input, init);
    },
  });
  const client = createCommandClient({ api, channel: null, backoff: fastRetry, ...options });
  const actions: Array<{ type: string; payload?: unknown }> = [];
  const record: Middleware = () => (next) => (action) => {
    actions.push(action as { type: string });
    return next(action);
  };
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware, record),
  );
  // Redux's own `Dispatch` overload comes first in the store's type: name the client's.
  const send: CommandDispatch = store.dispatch;
  return { client, store, send, actions, sent, api };
};

const allEvents = async (baseUrl: string, id: string): Promise<StoredEvent[]> => {
  const response = await fetch(`${baseUrl}/orders/${id}/events?limit=1000`, asAlice());
  expect(response.status).toBe(200);
  return ((await response.json()) as { events: StoredEvent[] }).events;
};

const line = (lineId: string, quantity = 1, unitPrice = 250) => ({
  lineId,
  sku: `sku-${lineId}`,
  quantity,
  unitPrice,
});

/** 20 commands on 3 orders, interleaved as a user would dispatch them. */
const twentyCommands = (a: string, b: string, c: string): ClientCommand[] => {
  const perOrder: ClientCommand[][] = [
    [
      { type: 'order/create', aggregateId: a, payload: { currency: 'EUR' } },
      { type: 'order/addLine', aggregateId: a, payload: line('a1', 2) },
      { type: 'order/addLine', aggregateId: a, payload: line('a2') },
      { type: 'order/changeQuantity', aggregateId: a, payload: { lineId: 'a1', quantity: 5 } },
      { type: 'order/removeLine', aggregateId: a, payload: { lineId: 'a2' } },
      { type: 'order/submit', aggregateId: a, payload: {} },
    ],
    [
      { type: 'order/create', aggregateId: b, payload: { currency: 'SEK' } },
      ...['b1', 'b2', 'b3', 'b4', 'b5'].map((l, i): ClientCommand => ({
        type: 'order/addLine',
        aggregateId: b,
        payload: line(l, i + 1),
      })),
      { type: 'order/removeLine', aggregateId: b, payload: { lineId: 'b3' } },
    ],
    [
      { type: 'order/create', aggregateId: c, payload: { currency: 'USD' } },
      ...['c1', 'c2', 'c3', 'c4', 'c5'].map((l): ClientCommand => ({
        type: 'order/addLine',
        aggregateId: c,
        payload: line(l),
      })),
      { type: 'order/cancel', aggregateId: c, payload: { reason: 'changed my mind' } },
    ],
  ];
  const out: ClientCommand[] = [];
  for (let i = 0; out.length < 20; i++)
    for (const list of perOrder) if (list[i]) out.push(list[i]!);
  return out;
};

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

describe.each(['decoupled', 'coupled'] as const)('%s profile', (profile) => {
  const url = () =>
    profile === 'decoupled' ? local.current.decoupledUrl! : local.current.coupledUrl!;

  test('20 commands on 3 orders dispatched offline survive a restart and apply exactly once, in order', async () => {
    const [a, b, c] = [newOrderId('off-a'), newOrderId('off-b'), newOrderId('off-c')];
    const path = join(mkdtempSync(join(tmpdir(), 'client-outbox-')), 'outbox.json');
    const commands = twentyCommands(a, b, c);

    // Offline: nothing answers. The view is already the predicted one.
    const offline = clientStore(await closedPort(), { storage: jsonFileStorage(path) });
    await offline.client.start();
    const dispatched = commands.map((command) => offline.send(sendCommand(command)));
    await until(() => !offline.store.getState().client.online);
    expect(selectView<OrderView>(offline.store.getState().client, a)).toMatchObject({
      status: 'submitted',
      lineCount: 1,
      total: 1250,
    });
    expect(offline.store.getState().client.outbox).toHaveLength(20);
    await offline.client.stop();

    // Restart: a new store and client on the same outbox file, now online.
    const online = clientStore(url(), { storage: jsonFileStorage(path) });
    await online.client.start();
    await online.client.idle();
    expect(await jsonFileStorage(path).load()).toEqual([]);

    const ids = dispatched.map((p) => p.commandId);
    for (const order of [a, b, c]) {
      const expected = commands.flatMap((command, i) =>
        command.aggregateId === order ? [ids[i]] : [],
      );
      const events = await allEvents(url(), order);
      // One event per command here: each commandId once, in dispatch order.
      expect(events.map((e) => e.commandId)).toEqual(expected);
      // The client's state, built from answers only, is the server's.
      const version = events.length;
      const row = await (
        await fetch(`${url()}/orders/${order}?minVersion=${version}`, asAlice())
      ).json();
      expect(selectView<OrderView>(online.store.getState().client, order)).toEqual(row);
    }
    expect(online.sent).toHaveLength(20);
    expect(new Set(online.sent).size).toBe(20);
    await online.client.stop();
  });

  test('a lost answer (committed, then the connection dropped) is resent and replayed, nothing doubled', async () => {
    const id = newOrderId('lost');
    let drops = 1;
    // Forwards each request; the first command's answer is read in full and then thrown away.
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = new URL(req.url ?? '/', url());
        const upstream = httpRequest(
          target,
          { method: req.method, headers: req.headers },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => body.push(chunk));
            answer.on('end', () => {
              if (req.method === 'POST' && drops > 0) {
                drops--;
                req.socket.destroy();
                return;
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const { port } = proxy.address() as AddressInfo;
      const { client, store, send, sent, actions } = clientStore(`http://127.0.0.1:${port}`);
      await client.start();
      const created = send(
        sendCommand({
          type: 'order/create',
          aggregateId: id,
          payload: { currency: 'EUR' },
        }),
      );
      const outcome = await created;
      expect(outcome).toMatchObject({ state: 'confirmed', version: 1, replayed: true });
      expect(sent).toEqual([created.commandId, created.commandId]);
      expect(actions.filter((a) => a.type === 'command/retrying')).toHaveLength(1);
      expect((await allEvents(url(), id)).map((e) => e.commandId)).toEqual([created.commandId]);
      expect(selectView<OrderView>(store.getState().client, id)).toMatchObject({
        id,
        version: 1,
        status: 'draft',
      });
      await client.stop();
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  test('a rule-violating command in the middle is rejected; the commands behind it proceed on the recomputed state', async () => {
    const id = newOrderId('rule');
    const { client, store, send, actions } = clientStore(url());
    await client.start();
    const [create, addX, addXAgain, addY, submit] = [
      sendCommand({
        type: 'order/create',
        aggregateId: id,
        payload: { currency: 'EUR' },
      }),
      sendCommand({ type: 'order/addLine', aggregateId: id, payload: line('x', 1, 100) }),
      sendCommand({ type: 'order/addLine', aggregateId: id, payload: line('x', 9, 100) }),
      sendCommand({ type: 'order/addLine', aggregateId: id, payload: line('y', 2, 100) }),
      sendCommand({ type: 'order/submit', aggregateId: id, payload: {} }),
    ].map((action) => send(action));
    const outcomes = await Promise.all([create, addX, addXAgain, addY, submit]);
    expect(outcomes.map((o) => o!.state)).toEqual([
      'confirmed',
      'confirmed',
      'rejected',
      'confirmed',
      'confirmed',
    ]);
    const rejected = actions.find((a) => a.type === 'command/rejected');
    expect(rejected?.payload).toEqual({
      commandId: addXAgain!.commandId,
      aggregateId: id,
      status: 422,
      code: 'RULE_VIOLATED',
      message: expect.any(String),
      details: expect.objectContaining({ rule: 'DUPLICATE_LINE_ID', lineId: 'x' }),
      conflict: false,
    });
    const order = selectView<OrderView>(store.getState().client, id);
    expect(order).toMatchObject({ status: 'submitted', version: 4, total: 300 });
    expect(order!.lines.map((l) => [l.lineId, l.quantity])).toEqual([
      ['x', 1],
      ['y', 2],
    ]);
    expect(store.getState().client.commands[addXAgain!.commandId]).toMatchObject({
      state: 'rejected',
      code: 'RULE_VIOLATED',
    });
    await client.stop();
  });

  test('two clients sharing one outbox (two tabs): one sends, both see the outcome, no command sent twice', async () => {
    const id = newOrderId('tabs');
    const storage = memoryStorage();
    const lock = memoryLock();
    const name = `tabs-${id}`;
    const one = clientStore(url(), { storage, lock, channel: broadcastChannel(name) });
    const two = clientStore(url(), { storage, lock, channel: broadcastChannel(name) });
    await one.client.start();
    await two.client.start();
    await until(() => one.store.getState().client.sending);
    const first = one.send(
      sendCommand({
        type: 'order/create',
        aggregateId: id,
        payload: { currency: 'EUR' },
      }),
    );
    await first;
    const fromTwo = ['t1', 't2', 't3', 't4'].map((l) =>
      two.send(sendCommand({ type: 'order/addLine', aggregateId: id, payload: line(l) })),
    );
    const fromOne = one.send(
      sendCommand({ type: 'order/addLine', aggregateId: id, payload: line('o1') }),
    );
    expect((await Promise.all([...fromTwo, fromOne])).every((o) => o.state === 'confirmed')).toBe(
      true,
    );
    expect(two.sent).toEqual([]);
    expect(new Set(one.sent).size).toBe(one.sent.length);
    expect(one.sent).toHaveLength(6);
    const events = await allEvents(url(), id);
    expect(new Set(events.map((e) => e.commandId)).size).toBe(6);
    // The tab that did not send shows the same order.
    expect(selectView<OrderView>(two.store.getState().client, id)).toEqual(
      selectView<OrderView>(one.store.getState().client, id),
    );
    expect(selectView<OrderView>(two.store.getState().client, id)).toMatchObject({
      lineCount: 5,
      version: 6,
    });

    // The sender closes: the other tab takes over the lock and sends what is left.
    await one.client.stop();
    await until(() => two.store.getState().client.sending);
    const after = await two.send(
      sendCommand({ type: 'order/submit', aggregateId: id, payload: {} }),
    );
    expect(after).toMatchObject({ state: 'confirmed', version: 7 });
    await two.client.stop();
  });
});
