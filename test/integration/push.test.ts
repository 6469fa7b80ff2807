/**
 * Live updates on the local runtime: real sockets (the `ws` client), the local WebSocket
 * gateway, the connections handler, the projections table's stream through the second poller, the
 * notifier posting through the `@connections` endpoint with the real SDK client, DynamoDB Local.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import {
  MAX_SUBSCRIPTIONS_PER_CONNECTION,
  topicOf,
  WEBSOCKET_LIMITS,
} from '../../lambdas/core/push/push';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { startLocalRuntime, type LocalRuntime } from '../../local/emulators/runtime';
import { localClient, testEndpoint } from '../support/dynamo';
import { authHeaders, TEST_POLLER, withToken } from '../support/runtime';
import { PUSHED_COLLECTIONS } from '../../lambdas/handlers/deployment';
import { foldPushedEvents } from '../../client/live';
import { aggregateOfView } from '../../client/aggregates';

/** The push topic of one order (`order#<id>`): what a subscriber of that order listens to. */
const orderTopic = (id: string) => topicOf({ name: 'order' }, id);

// Messages are checked field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Message = any;

/**
 * The row a client holds after the `<view>/changed` messages it received up to `version`: the
 * message's row, or its events folded onto the row before them, as the client does
 * (docs/decisions/push-events-to-fold.md).
 */
const rowPushed = (client: Client, view: string, version: number): unknown => {
  const message = client.messages.find(
    (m: Message) => m.type === `${view}/changed` && m.version === version,
  );
  if (!message) throw new Error(`no ${view}/changed at version ${version}`);
  if (message[view] !== undefined) return message[view];
  const from = (message.events[0].version as number) - 1;
  const before = from === 0 ? undefined : { version: from, view: rowPushed(client, view, from) };
  return foldPushedEvents(aggregateOfView(view)!, before as never, message)?.view;
};

let prefixes = 0;
const prefix = () => `push${process.pid}x${prefixes++}`;

/** A client socket that keeps every message it received, and waits for the ones it needs. */
class Client {
  readonly messages: Message[] = [];
  private waiters: (() => void)[] = [];
  closed?: { code: number; reason: string };

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolveOpen, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolveOpen(new Client(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown) {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (from `from` on) that matches, waiting up to 10 s. */
  async next(match: (m: Message) => boolean, from = 0): Promise<Message> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no matching message in ${JSON.stringify(this.messages)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async request(message: unknown): Promise<Message> {
    const from = this.messages.length;
    this.send(message);
    return this.next(() => true, from);
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close() {
    this.socket.close();
  }
}

/** A command; `headers` carry the token (authHeaders). */
const command = async (base: string, body: unknown, headers: Record<string, string>) => {
  const response = await fetch(`${base}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Message;
};

const create = (id: string) => ({
  type: 'order/create',
  aggregateId: id,
  payload: { customerId: 'c-push', currency: 'EUR' },
});

const eventually = async (check: () => Promise<boolean>, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('live updates on both stacks', () => {
  let runtime: LocalRuntime;
  let doc: DynamoDBDocumentClient;
  let tablePrefix: string;
  const clients: Client[] = [];
  /** Everything here runs as the dev admin: its token on every request and socket. */
  const asAdmin = () => authHeaders(runtime);
  const open = async (stack: 'decoupled' | 'coupled') => {
    const client = await Client.open(withToken(runtime, runtime.websocketUrls[stack]!));
    clients.push(client);
    return client;
  };
  const subscriptionsTable = (stack: string) => `${tablePrefix}-${stack}-subscriptions`;
  const topicsOf = async (stack: string, connectionId: string) => {
    const { Items } = await doc.send(
      new QueryCommand({
        TableName: subscriptionsTable(stack),
        IndexName: 'byConnection',
        KeyConditionExpression: 'connectionId = :c',
        ExpressionAttributeValues: { ':c': connectionId },
      }),
    );
    // Beside its subscriptions, a connection has one counter item (topic `#subscriptions`).
    return (Items ?? []).map((item) => String(item.topic)).filter((t) => !t.startsWith('#'));
  };
  /** The id of the connection that subscribed last to `topic` on `stack`. */
  const connectionsOf = async (stack: string, id: string) => {
    const { Items } = await doc.send(
      new QueryCommand({
        TableName: subscriptionsTable(stack),
        KeyConditionExpression: 'topic = :t',
        ExpressionAttributeValues: { ':t': orderTopic(id) },
      }),
    );
    return (Items ?? []).map((item) => String(item.connectionId));
  };

  beforeAll(async () => {
    tablePrefix = prefix();
    runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix,
      poller: { ...TEST_POLLER, pollIntervalMs: 25 },
      // No fulfilment workflow: these tests follow each order's own commands, version by version.
      workflows: { enabled: false },
      handlerLogLevel: 'SILENT',
      quiet: true,
    });
    doc = DynamoDBDocumentClient.from(localClient());
  });
  // Every socket here is the admin's, and one user holds at most MAX_CONNECTIONS_PER_USER: each
  // test closes its sockets and waits for their $disconnect, so the next test starts with none.
  afterEach(async () => {
    const open = clients.splice(0);
    open.forEach((c) => c.close());
    await Promise.all(open.map((c) => c.waitClosed()));
    for (const stack of ['decoupled', 'coupled'])
      await eventually(async () => {
        const { Items } = await doc.send(
          new QueryCommand({
            TableName: subscriptionsTable(stack),
            KeyConditionExpression: 'topic = :t',
            ExpressionAttributeValues: { ':t': '#user#admin' },
          }),
        );
        return (Items ?? []).length === 0;
      }, `the admin's connections on ${stack} to close`);
  });
  afterAll(async () => {
    await runtime.stop();
    doc.destroy();
  });

  test.each(['decoupled', 'coupled'] as const)(
    '%s: subscribe, a command reaches the socket through the real stream, unsubscribe',
    async (stack) => {
      const id = `push-${stack}-${process.pid}`;
      const client = await open(stack);
      // No row yet: version 0.
      expect(await client.request({ action: 'subscribe', collection: 'orders', id })).toEqual({
        type: 'subscribed',
        collection: 'orders',
        id,
        version: 0,
      });

      const base = stack === 'decoupled' ? runtime.decoupledUrl! : runtime.coupledUrl!;
      await command(base, create(id), asAdmin());
      const pushed = await client.next((m) => m.type === 'order/changed');
      expect(pushed).toMatchObject({ type: 'order/changed', id, version: 1 });
      // The pushed row is the one a query returns.
      const row = (await (
        await fetch(`${base}/orders/${id}?minVersion=1`, { headers: asAdmin() })
      ).json()) as Message;
      expect(rowPushed(client, 'order', 1)).toEqual(row);

      expect(await client.request({ action: 'unsubscribe', collection: 'orders', id })).toEqual({
        type: 'unsubscribed',
        collection: 'orders',
        id,
      });
      expect(await connectionsOf(stack, id)).toEqual([]);
      const before = client.messages.length;
      await command(
        base,
        {
          type: 'order/addLine',
          aggregateId: id,
          payload: { lineId: 'l1', sku: 'SKU', quantity: 1, unitPrice: 100 },
        },
        asAdmin(),
      );
      // A second subscriber proves the change was pushed; the unsubscribed one got nothing.
      const other = await open(stack);
      await other.request({ action: 'subscribe', collection: 'orders', id });
      await command(base, { type: 'order/submit', aggregateId: id, payload: {} }, asAdmin());
      await other.next((m) => m.type === 'order/changed' && m.version === 3);
      expect(client.messages.slice(before)).toEqual([]);

      // A deletion is its own message, not the deleted row (before: order/changed + a stub).
      await command(base, { type: 'order/cancel', aggregateId: id, payload: {} }, asAdmin());
      await command(base, { type: 'order/delete', aggregateId: id, payload: {} }, asAdmin());
      expect(await other.next((m) => m.version === 5)).toEqual({
        type: 'order/deleted',
        id,
        version: 5,
      });
      expect((await fetch(`${base}/orders/${id}`, { headers: asAdmin() })).status).toBe(404);
    },
  );

  test('an unknown action and a message that is not JSON: an error on the socket, which stays open', async () => {
    const client = await open('coupled');
    expect(await client.request({ action: 'dance', id: 'x' })).toEqual({
      type: 'error',
      error: {
        code: 'UNKNOWN_ACTION',
        message: expect.any(String),
        details: { action: 'dance', actions: ['subscribe', 'unsubscribe'] },
      },
    });
    expect(await client.request('not json')).toMatchObject({
      type: 'error',
      error: { code: 'INVALID_JSON' },
    });
    // Still open and served.
    expect(
      await client.request({ action: 'subscribe', collection: 'orders', id: 'still-open' }),
    ).toEqual({
      type: 'subscribed',
      collection: 'orders',
      id: 'still-open',
      version: 0,
    });
    expect(client.closed).toBeUndefined();
  });

  test('subscribing with an invalid id: VALIDATION_FAILED naming the field, nothing stored', async () => {
    const client = await open('coupled');
    const answer = await client.request({
      action: 'subscribe',
      collection: 'orders',
      id: 'no spaces/allowed',
    });
    expect(answer).toMatchObject({
      type: 'error',
      error: {
        code: 'VALIDATION_FAILED',
        details: { issues: [{ path: 'message.id', message: expect.any(String) }] },
      },
    });
    expect(await client.request({ action: 'subscribe' })).toMatchObject({
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await connectionsOf('coupled', 'no spaces/allowed')).toEqual([]);
  });

  test('subscribing to a collection the deployment does not have: NOT_FOUND naming the known ones', async () => {
    const client = await open('decoupled');
    expect(
      await client.request({ action: 'subscribe', collection: 'invoices', id: 'i-1' }),
    ).toMatchObject({
      type: 'error',
      // The subscription it is about, so a client can mark it failed.
      action: 'subscribe',
      collection: 'invoices',
      id: 'i-1',
      error: {
        code: 'NOT_FOUND',
        details: {
          collection: 'invoices',
          collections: PUSHED_COLLECTIONS.map(({ collection }) => collection),
        },
      },
    });
  });

  test.each(['decoupled', 'coupled'] as const)(
    '%s: a shopping list is pushed to its subscribers (its own view), its deletion too',
    async (stack) => {
      const id = `list-${stack}-${process.pid}`;
      const base = stack === 'decoupled' ? runtime.decoupledUrl! : runtime.coupledUrl!;
      const client = await open(stack);
      // Following the same id as an order is another topic: it receives nothing here.
      const asOrder = await open(stack);
      await asOrder.request({ action: 'subscribe', collection: 'orders', id });
      expect(
        await client.request({ action: 'subscribe', collection: 'shopping-lists', id }),
      ).toEqual({ type: 'subscribed', collection: 'shopping-lists', id, version: 0 });

      await command(
        base,
        {
          type: 'shoppingList/create',
          aggregateId: id,
          payload: { name: 'Groceries', ownerId: 'u-push' },
        },
        asAdmin(),
      );
      await command(
        base,
        {
          type: 'shoppingList/addItem',
          aggregateId: id,
          payload: { itemId: 'i1', text: 'Milk' },
        },
        asAdmin(),
      );
      const pushed = await client.next(
        (m) => m.type === 'shopping-list/changed' && m.version === 2,
      );
      // The pushed row is the one a query returns.
      const row = (await (
        await fetch(`${base}/shopping-lists/${id}?minVersion=2`, { headers: asAdmin() })
      ).json()) as Message;
      expect(rowPushed(client, 'shopping-list', pushed.version)).toEqual(row);
      expect(row).toMatchObject({ id, name: 'Groceries', itemCount: 1 });

      await command(base, { type: 'shoppingList/delete', aggregateId: id, payload: {} }, asAdmin());
      expect(await client.next((m) => m.version === 3)).toEqual({
        type: 'shopping-list/deleted',
        id,
        version: 3,
      });
      expect((await fetch(`${base}/shopping-lists/${id}`, { headers: asAdmin() })).status).toBe(
        404,
      );
      // A later subscriber is acknowledged with the version of the row it follows (kept, deleted).
      expect(
        await (
          await open(stack)
        ).request({ action: 'subscribe', collection: 'shopping-lists', id }),
      ).toEqual({ type: 'subscribed', collection: 'shopping-lists', id, version: 3 });
      expect(asOrder.messages.filter((m) => m.type !== 'subscribed')).toEqual([]);
    },
  );

  test('a disconnect removes the connection’s subscriptions and only those', async () => {
    const id = `disc-${process.pid}`;
    const [leaving, staying] = [await open('coupled'), await open('coupled')];
    await leaving.request({ action: 'subscribe', collection: 'orders', id });
    await leaving.request({ action: 'subscribe', collection: 'orders', id: `${id}-b` });
    await staying.request({ action: 'subscribe', collection: 'orders', id });
    const both = await connectionsOf('coupled', id);
    expect(both).toHaveLength(2);
    const leavingId = (await connectionsOf('coupled', `${id}-b`))[0]!;
    expect(await topicsOf('coupled', leavingId)).toHaveLength(2);

    leaving.close();
    await eventually(
      async () => (await topicsOf('coupled', leavingId)).length === 0,
      '$disconnect',
    );
    expect(await connectionsOf('coupled', id)).toEqual(both.filter((c) => c !== leavingId));
  });

  test('one socket follows at most MAX_SUBSCRIPTIONS_PER_CONNECTION rows: a flood is refused past it', async () => {
    const client = await open('decoupled');
    const ids = Array.from(
      { length: MAX_SUBSCRIPTIONS_PER_CONNECTION + 1 },
      (_, i) => `flood-${process.pid}-${i}`,
    );
    // All sent at once: the count holds however they interleave.
    for (const id of ids) client.send({ action: 'subscribe', collection: 'orders', id });
    const answers = await Promise.all(
      ids.map((id) => client.next((m) => m.id === id && m.type !== 'unsubscribed')),
    );
    const refused = answers.filter((m) => m.type === 'error');
    expect(answers.filter((m) => m.type === 'subscribed')).toHaveLength(
      MAX_SUBSCRIPTIONS_PER_CONNECTION,
    );
    expect(refused).toEqual([
      expect.objectContaining({
        action: 'subscribe',
        error: expect.objectContaining({
          code: 'TOO_MANY_SUBSCRIPTIONS',
          details: { limit: MAX_SUBSCRIPTIONS_PER_CONNECTION },
        }),
      }),
    ]);
    const connectionId = (await connectionsOf('decoupled', answers[0].id))[0]!;
    expect(await topicsOf('decoupled', connectionId)).toHaveLength(
      MAX_SUBSCRIPTIONS_PER_CONNECTION,
    );
    // One unsubscribed: the refused one fits.
    const followed = answers.find((m) => m.type === 'subscribed').id;
    await client.request({ action: 'unsubscribe', collection: 'orders', id: followed });
    expect(
      await client.request({ action: 'subscribe', collection: 'orders', id: refused[0].id }),
    ).toMatchObject({ type: 'subscribed', id: refused[0].id });
  });

  test('a gone connection is cleaned up by the notifier while the others still receive', async () => {
    const id = `gone-${process.pid}`;
    const live = await open('decoupled');
    await live.request({ action: 'subscribe', collection: 'orders', id });
    await live.request({ action: 'subscribe', collection: 'orders', id: `${id}-other` });
    const liveId = (await connectionsOf('decoupled', id))[0]!;
    // A connection whose $disconnect never arrived: its rows are still there, each with the
    // subscriber the notifier checks before every push (an admin here, so it is pushed to).
    const staleId = 'StaleConnId0000=';
    for (const topic of [orderTopic(id), orderTopic(`${id}-x`)]) {
      await doc.send(
        new PutCommand({
          TableName: subscriptionsTable('decoupled'),
          Item: {
            topic,
            connectionId: staleId,
            expiresAt: Math.floor(Date.now() / 1000) + 3600,
            subject: 'admin',
            roles: 'admin',
          },
        }),
      );
    }
    await command(runtime.decoupledUrl!, create(id), asAdmin());
    expect(await live.next((m) => m.type === 'order/changed')).toMatchObject({ id, version: 1 });
    await eventually(async () => (await topicsOf('decoupled', staleId)).length === 0, 'cleanup');
    // The sender-side connection keeps every subscription it had.
    expect((await topicsOf('decoupled', liveId)).sort()).toEqual(
      [orderTopic(id), orderTopic(`${id}-other`)].sort(),
    );
  });

  test('a row over 128 KB is pushed as a poke without the row', async () => {
    const id = `big-${process.pid}`;
    const client = await open('coupled');
    await client.request({ action: 'subscribe', collection: 'orders', id });
    // A row larger than any order the domain allows, written straight into the order's view
    // (its item in the projections table, `applied[id]` its version).
    const putRow = (version: number, view: Record<string, unknown>) =>
      doc.send(
        new PutCommand({
          TableName: `${tablePrefix}-coupled-read-models`,
          Item: {
            key: storedKey(orderViewProjection, id),
            view,
            applied: { [id]: version },
            rev: version,
          },
        }),
      );
    await putRow(7, {
      id,
      version: 7,
      padding: 'x'.repeat(WEBSOCKET_LIMITS.maxMessageBytes + 1000),
    });
    const poke = await client.next((m) => m.type === 'order/changed');
    expect(poke).toEqual({ type: 'order/changed', id, version: 7 });
    // A small row is inline.
    await putRow(8, { id, version: 8, padding: 'small' });
    expect(await client.next((m) => m.version === 8)).toEqual({
      type: 'order/changed',
      id,
      version: 8,
      order: { id, version: 8, padding: 'small' },
    });
  });

  test('the @connections endpoint through the SDK: GET, POST, DELETE, 410 and 413', async () => {
    const client = await open('coupled');
    await client.request({ action: 'subscribe', collection: 'orders', id: 'mgmt' });
    const connectionId = (await connectionsOf('coupled', 'mgmt')).at(-1)!;
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: runtime.websocketUrls.coupled!.replace('ws://', 'http://'),
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      expect(info.Identity?.SourceIp).toBeDefined();
      expect(info.ConnectedAt).toBeInstanceOf(Date);

      await sdk.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"hi":1}') }),
      );
      expect(await client.next((m) => m.hi === 1)).toEqual({ hi: 1 });

      const tooBig = Buffer.alloc(WEBSOCKET_LIMITS.maxMessageBytes + 1, 'a');
      await expect(
        sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: tooBig })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 413 } });

      await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      await client.waitClosed();
      await expect(
        sdk.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') }),
        ),
      ).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
      await expect(
        sdk.send(new GetConnectionCommand({ ConnectionId: 'neverExisted' })),
      ).rejects.toMatchObject({ name: 'GoneException' });
    } finally {
      sdk.destroy();
    }
  });

  test('a message over 128 KB from a client closes the socket with 1009', async () => {
    const client = await open('coupled');
    client.send({
      action: 'subscribe',
      collection: 'orders',
      id: 'x',
      padding: 'y'.repeat(WEBSOCKET_LIMITS.maxMessageBytes),
    });
    expect((await client.waitClosed()).code).toBe(1009);
  });
});

describe('connection time limits (short, configured)', () => {
  let runtime: LocalRuntime;
  let tablePrefix: string;
  let doc: DynamoDBDocumentClient;
  beforeAll(async () => {
    tablePrefix = prefix();
    runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      stacks: ['coupled'],
      coupledPort: 0,
      tablePrefix,
      handlerLogLevel: 'SILENT',
      quiet: true,
      push: { idleTimeoutMs: 400, maxConnectionMs: 1500 },
    });
    doc = DynamoDBDocumentClient.from(localClient());
  });
  afterAll(async () => {
    await runtime.stop();
    doc.destroy();
  });

  test('an idle connection is closed (1001) and its subscriptions removed', async () => {
    const client = await Client.open(withToken(runtime, runtime.websocketUrls.coupled!));
    await client.request({ action: 'subscribe', collection: 'orders', id: 'idle' });
    expect((await client.waitClosed()).code).toBe(1001);
    await eventually(async () => {
      const { Items } = await doc.send(
        new QueryCommand({
          TableName: `${tablePrefix}-coupled-subscriptions`,
          KeyConditionExpression: 'topic = :t',
          ExpressionAttributeValues: { ':t': orderTopic('idle') },
        }),
      );
      return (Items ?? []).length === 0;
    }, 'the $disconnect of the idle connection');
  });

  test('messages keep a connection alive until the maximum connection time', async () => {
    const client = await Client.open(withToken(runtime, runtime.websocketUrls.coupled!));
    // A heartbeat under the idle timeout (an unknown action is a fine heartbeat).
    const heartbeat = setInterval(() => client.send({ action: 'ping' }), 100);
    try {
      await client.waitClosed();
    } finally {
      clearInterval(heartbeat);
    }
    expect(client.closed!.code).toBe(1001);
    // Answers to heartbeats sent well after the idle timeout (400 ms at one per 100 ms): the
    // maximum connection time closed it, not idleness.
    expect(client.messages.length).toBeGreaterThan(8);
  });
});
