/**
 * Who may do what, through the real gateways of both stacks (HTTP and WebSocket) with tokens of
 * the development identity provider: every route and message x {owner, other user, support, no
 * token, expired token, wrong audience, bad signature}, each with its status, and nothing
 * written or pushed where refused (docs/guide/users-and-permissions.md,
 * docs/operations/threat-model.md).
 */
import WebSocket from 'ws';
import { MAX_CONNECTIONS_PER_USER } from '../../lambdas/core/push/push';
import { rsaKeyPair, signJwt } from '../../local/emulators/identity-provider';
import { useLocalRuntime } from '../support/runtime';

const runtime = useLocalRuntime(`perm${process.pid}`);

type Caller = 'alice' | 'bob' | 'support' | 'none' | 'expired' | 'wrongAudience' | 'badSignature';
const BAD_TOKENS: readonly Caller[] = ['none', 'expired', 'wrongAudience', 'badSignature'];

/** The token each caller sends (undefined: no Authorization header at all). */
const tokenOf = async (caller: Caller): Promise<string | undefined> => {
  const identity = runtime.current.identity;
  switch (caller) {
    case 'alice':
    case 'bob':
    case 'support':
      return identity.tokenFor(caller);
    case 'none':
      return undefined;
    case 'expired':
      return identity.tokenFor('alice', { ttlSeconds: -60 });
    case 'wrongAudience':
      return identity.tokenFor('alice', { audience: 'another-app' });
    case 'badSignature': {
      // Same header (kid) and claims as a good token, signed by another key.
      const good = identity.tokenFor('alice');
      const [header, claims] = good
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as object);
      const { privateKey } = rsaKeyPair();
      return signJwt(
        header as Record<string, unknown>,
        claims as Record<string, unknown>,
        privateKey,
      );
    }
  }
};

const call = async (
  stack: 'decoupled' | 'coupled',
  caller: Caller,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> => {
  const base = stack === 'decoupled' ? runtime.current.decoupledUrl! : runtime.current.coupledUrl!;
  const token = await tokenOf(caller);
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
};

/** A command's success: 200 on the coupled stack, 202 on the decoupled one. */
const accepted = (status: number) => status === 200 || status === 202;

const send = (stack: 'decoupled' | 'coupled', caller: Caller, command: Record<string, unknown>) =>
  call(stack, caller, '/commands', command);

/** How many events an order has, read as support (who reads everything). */
const eventCount = async (stack: 'decoupled' | 'coupled', id: string) => {
  const answer = await call(stack, 'support', `/orders/${id}/events`);
  return answer.status === 404 ? 0 : (answer.body.events as unknown[]).length;
};

/** Polls until the read answers `status` as `caller` (the decoupled projector is behind). */
const eventually = async (read: () => Promise<{ status: number }>, status: number) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await read();
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Alice creates order `id` and can read it (on the decoupled stack, once projected). */
const aliceCreatesOrder = async (stack: 'decoupled' | 'coupled', id: string) => {
  const created = await send(stack, 'alice', {
    type: 'order/create',
    aggregateId: id,
    payload: { currency: 'EUR' },
  });
  expect(accepted(created.status)).toBe(true);
  expect((await eventually(() => call(stack, 'alice', `/orders/${id}`), 200)).status).toBe(200);
};

let orders = 0;

describe.each(['decoupled', 'coupled'] as const)('%s stack over HTTP', (stack) => {
  const id = `pm-${stack}-${process.pid}-${orders++}`;

  beforeAll(async () => {
    await aliceCreatesOrder(stack, id);
    await eventually(() => call(stack, 'alice', `/read-models/customer-summary/alice`), 200);
  });

  const reads: [string, () => string, Partial<Record<Caller, number>>][] = [
    ['GET the order', () => `/orders/${id}`, { alice: 200, bob: 404, support: 200 }],
    ['GET its events', () => `/orders/${id}/events`, { alice: 200, bob: 404, support: 200 }],
    [
      'GET its history',
      () => `/orders/${id}/history?version=1`,
      { alice: 200, bob: 404, support: 200 },
    ],
    [
      "list alice's orders",
      () => '/orders?customerId=alice',
      { alice: 200, bob: 403, support: 200 },
    ],
    ['list orders by status', () => '/orders?status=draft', { alice: 403, bob: 403, support: 200 }],
    [
      "GET alice's customer summary",
      () => '/read-models/customer-summary/alice',
      { alice: 200, bob: 404, support: 200 },
    ],
    [
      'GET the removed-lines read model',
      () => '/read-models/removed-lines/sku-1',
      // Staff only: a customer gets what a missing row gets.
      { alice: 404, bob: 404, support: 404 },
    ],
  ];

  describe.each(reads)('%s', (_name, path, expected) => {
    test.each(Object.entries(expected))('as %s: %i', async (caller, status) => {
      const answer = await call(stack, caller as Caller, path());
      expect(answer.status).toBe(status);
    });
    test.each(BAD_TOKENS)("with a bad token (%s): the gateway's 401", async (caller) => {
      const answer = await call(stack, caller, path());
      expect(answer).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    });
  });

  test("bob's view of alice's order is the one of an order that does not exist", async () => {
    const mine = await call(stack, 'bob', `/orders/${id}`);
    const missing = await call(stack, 'bob', `/orders/${id}-nope`);
    expect(mine.status).toBe(404);
    // The very body a missing order gets, but for the id asked about: nothing says it exists.
    expect(JSON.parse(JSON.stringify(missing.body).replaceAll(`${id}-nope`, id))).toEqual(
      mine.body,
    );
  });

  test("alice's list holds only her orders", async () => {
    await send(stack, 'bob', {
      type: 'order/create',
      aggregateId: `${id}-bob`,
      payload: { currency: 'EUR' },
    });
    const page = await call(stack, 'alice', '/orders?customerId=alice');
    const items = page.body.items as { customerId: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((o) => o.customerId === 'alice')).toBe(true);
  });

  const addLine = (lineId: string) => ({
    type: 'order/addLine',
    aggregateId: id,
    payload: { lineId, sku: 'sku-1', quantity: 1, unitPrice: 100 },
  });

  test.each([
    ['bob', 404, undefined],
    ['support', 403, 'OWNER_ONLY'],
    ...BAD_TOKENS.map((caller) => [caller, 401, undefined] as const),
  ] as const)(
    "%s adds a line to alice's order: %i, nothing written",
    async (caller, status, rule) => {
      const before = await eventCount(stack, id);
      const answer = await send(stack, caller, addLine(`line-${caller}`));
      expect(answer.status).toBe(status);
      if (rule) expect(answer.body.error).toMatchObject({ code: 'FORBIDDEN', details: { rule } });
      expect(await eventCount(stack, id)).toBe(before);
    },
  );

  test('alice adds a line to her order, and the event records her as its actor', async () => {
    const answer = await send(stack, 'alice', addLine('line-alice'));
    expect(accepted(answer.status)).toBe(true);
    const events = (await call(stack, 'support', `/orders/${id}/events`)).body.events as {
      actor?: string;
    }[];
    expect(events.map((e) => e.actor)).toEqual(['alice', 'alice']);
    const history = await call(stack, 'alice', `/orders/${id}/history?version=2`);
    expect(history.body).toMatchObject({ version: 2, actor: 'alice' });
  });

  test("bob cannot order in alice's name (the customer-summary flood): 403, nothing written", async () => {
    const flood = `${id}-flood`;
    const answer = await send(stack, 'bob', {
      type: 'order/create',
      aggregateId: flood,
      payload: { customerId: 'alice', currency: 'EUR' },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ details: { rule: 'CUSTOMER_IS_THE_CALLER' } });
    expect(await eventCount(stack, flood)).toBe(0);
  });

  test("another user resending alice's commandId gets 409, never her answer", async () => {
    const command = { ...addLine('line-once'), commandId: `cmd-${id}` };
    expect(accepted((await send(stack, 'alice', command)).status)).toBe(true);
    const replayed = await send(stack, 'support', command);
    expect(replayed.status).toBe(409);
    expect(replayed.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  test("support cancels alice's order", async () => {
    const answer = await send(stack, 'support', {
      type: 'order/cancel',
      aggregateId: id,
      payload: { reason: 'asked by phone' },
    });
    expect(accepted(answer.status)).toBe(true);
  });
});

/** A socket that keeps what it receives. */
const connect = (url: string) =>
  new Promise<{ socket: WebSocket; messages: Record<string, unknown>[] }>((resolve, reject) => {
    const socket = new WebSocket(url);
    const messages: Record<string, unknown>[] = [];
    socket.on('message', (data) =>
      messages.push(JSON.parse(String(data)) as Record<string, unknown>),
    );
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`HTTP ${response.statusCode}`)),
    );
    socket.once('error', reject);
  });

const until = async <T>(
  find: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe.each(['decoupled', 'coupled'] as const)('%s stack over WebSocket', (stack) => {
  const wsUrl = async (caller: Caller) => {
    const token = await tokenOf(caller);
    const base = runtime.current.websocketUrls[stack]!;
    return token ? `${base}?token=${encodeURIComponent(token)}` : base;
  };
  const sockets: WebSocket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));
  const open = async (caller: Caller) => {
    const client = await connect(await wsUrl(caller));
    sockets.push(client.socket);
    return client;
  };
  const subscribe = async (
    client: { socket: WebSocket; messages: Record<string, unknown>[] },
    id: string,
  ) => {
    const from = client.messages.length;
    client.socket.send(JSON.stringify({ action: 'subscribe', collection: 'orders', id }));
    return until(() =>
      client.messages.slice(from).find((m) => m.type === 'subscribed' || m.type === 'error'),
    );
  };

  test(`one user holds at most ${MAX_CONNECTIONS_PER_USER} sockets: the next is refused (429) until one closes`, async () => {
    const url = `${runtime.current.websocketUrls[stack]!}?token=${runtime.current.identity.tokenFor('admin')}`;
    const held = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS_PER_USER }, () => connect(url)),
    );
    await expect(connect(url)).rejects.toThrow('HTTP 429');
    const closed = new Promise((r) => held[0]!.socket.once('close', r));
    held[0]!.socket.close();
    await closed;
    // $disconnect runs after the close: its place is free a moment later.
    const again = await until(async () => connect(url).catch(() => undefined));
    held.slice(1).forEach((c) => c.socket.close());
    again.socket.close();
  });

  test.each(BAD_TOKENS)('connecting with a bad token (%s) is refused: 401', async (caller) => {
    await expect(connect(await wsUrl(caller))).rejects.toThrow('HTTP 401');
  });

  test("bob may not follow alice's order; alice and support are pushed her changes, bob nothing", async () => {
    const id = `pm-ws-${stack}-${process.pid}`;
    await aliceCreatesOrder(stack, id);
    const [alice, bob, support] = await Promise.all([open('alice'), open('bob'), open('support')]);

    const first = await subscribe(alice, id);
    expect(first).toEqual({ type: 'subscribed', collection: 'orders', id, version: 1 });
    expect(await subscribe(support, id)).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(bob, id)).toMatchObject({ type: 'error', error: { code: 'NOT_FOUND' } });
    // An id with no row yet may be followed by anyone, and pushes are checked on every push.
    const later = `${id}-later`;
    expect(await subscribe(bob, later)).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(alice, later)).toMatchObject({ type: 'subscribed' });

    await send(stack, 'alice', {
      type: 'order/addLine',
      aggregateId: id,
      payload: { lineId: 'l1', sku: 'sku-1', quantity: 1, unitPrice: 100 },
    });
    await send(stack, 'alice', {
      type: 'order/create',
      aggregateId: later,
      payload: { currency: 'EUR' },
    });
    const pushedTo = (client: { messages: Record<string, unknown>[] }, orderId: string) =>
      client.messages.find((m) => m.type === 'order/changed' && m.id === orderId);
    await until(() => pushedTo(alice, id));
    await until(() => pushedTo(support, id));
    await until(() => pushedTo(alice, later));
    // Alice's pushes arrived; bob's would have come by now through the same notifier batch.
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.messages.filter((m) => m.type === 'order/changed')).toEqual([]);
  });
});
