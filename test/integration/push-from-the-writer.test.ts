/**
 * Pushes from where the fresh row is (docs/decisions/push-from-the-writer.md), on the local
 * runtime with real sockets: the coupled function posts its row right after the commit, the
 * decoupled projector right after its row write, both without the projections table's notifier;
 * with the notifier running, a row its writer posted is never posted again, and a row no writer
 * posted (a re-projection's, as a redrive or rebuild writes it) still is.
 */
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { ENV } from '../../lambdas/handlers/environment';
import { reprojectorFromEnv } from '../../lambdas/handlers/wiring';
import { type LocalRuntime, startLocalRuntime } from '../../local/emulators/runtime';
import { localClient, testEndpoint } from '../support/dynamo';
import { authHeaders, TEST_POLLER, withToken } from '../support/runtime';
import { foldPushedEvents } from '../../client/live';
import { aggregateOfView } from '../../client/aggregates';
import type { ConfirmedView } from '../../client/state';

type User = 'alice' | 'bob' | 'admin';
type Stack = 'decoupled' | 'coupled';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Message = any;

/**
 * What a subscriber of `stack` must have been pushed of versions 1..last: each version at most
 * once and in order, the last one included. The coupled function posts every command's row; the
 * projector writes a row once per batch, so versions a batch folded together are one push.
 */
const expectPushed = (stack: Stack, versions: readonly number[], last: number) => {
  if (stack === 'coupled') {
    expect(versions).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    return;
  }
  expect(versions.at(-1)).toBe(last);
  versions.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(versions[i]!));
};

let prefixes = 0;
const prefix = () => `pushw${process.pid}x${prefixes++}`;

/** A socket that keeps every message, and waits for the ones it needs. */
class Client {
  readonly messages: Message[] = [];
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data))));
    socket.on('close', () => (this.closed = true));
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  /** The first message (from `from` on) that matches, waiting up to 10 s. */
  async next(match: (m: Message) => boolean, from = 0): Promise<Message> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no match in ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async subscribe(id: string, collection = 'orders') {
    const from = this.messages.length;
    this.socket.send(JSON.stringify({ action: 'subscribe', collection, id }));
    const answer = await this.next(() => true, from);
    expect(answer).toMatchObject({ type: 'subscribed', id });
  }

  /** The versions of `id` pushed to this socket, in the order they arrived. */
  versionsOf(id: string): number[] {
    return this.messages
      .filter((m) => m.id === id && m.type !== 'subscribed')
      .map((m) => m.version);
  }

  async close() {
    this.socket.close();
    while (!this.closed) await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * What a client holds after the pushes of `id` to it, as client/live.ts takes them: a row as it
 * is, a message's events folded onto the state before them. A gap fails.
 */
const heldAfterPushes = (client: Client, id: string, view: string) => {
  let held: ConfirmedView | undefined;
  for (const m of client.messages.filter((m) => m.id === id && m.type === `${view}/changed`)) {
    held = m.events
      ? foldPushedEvents(aggregateOfView(view)!, held, m)
      : { version: m.version, view: m[view] };
    if (!held) throw new Error(`a gap before version ${m.version}: ${JSON.stringify(m)}`);
  }
  return held;
};

/**
 * The client's last push of `id` (at `version`) carries the events instead of the row, the last
 * one of `eventType`; every version reached it in order; and its fold of the pushes is the row
 * `path` answers (`query`: the runtime's read).
 */
const expectEventsFolded = async (
  stack: Stack,
  client: Client,
  expected: { id: string; version: number; view: string; eventType: string; path: string },
  query: (stack: Stack, path: string) => Promise<unknown>,
) => {
  const { id, version, view } = expected;
  const last = await client.next((m) => m.id === id && m.version === version);
  expect(last).toMatchObject({ type: `${view}/changed`, id, version });
  expectPushed(stack, client.versionsOf(id), version);
  expect(last.events?.at(-1)).toMatchObject({ version, type: expected.eventType });
  expect(heldAfterPushes(client, id, view)).toEqual({
    version,
    view: await query(stack, `${expected.path}?minVersion=${version}`),
  });
};

const line = (n: number) => ({ lineId: `l${n}`, sku: 'SKU', quantity: 1, unitPrice: 100 });

const usePushRuntime = (options: { notifier: boolean }) => {
  const state = {
    runtime: undefined as unknown as LocalRuntime,
    tablePrefix: '',
    clients: [] as Client[],
  };
  beforeAll(async () => {
    state.tablePrefix = prefix();
    state.runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix: state.tablePrefix,
      poller: { ...TEST_POLLER, pollIntervalMs: 25 },
      workflows: { enabled: false },
      push: { notifier: options.notifier },
      handlerLogLevel: 'SILENT',
      quiet: true,
    });
  });
  // Each test closes its sockets (a user holds at most 10).
  afterEach(async () => {
    await Promise.all(state.clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => state.runtime.stop());
  return {
    state,
    open: async (stack: Stack, user: User = 'admin') => {
      const client = await Client.open(
        withToken(state.runtime, state.runtime.websocketUrls[stack]!, user),
      );
      state.clients.push(client);
      return client;
    },
    command: async (stack: Stack, body: unknown) => {
      const base = stack === 'decoupled' ? state.runtime.decoupledUrl! : state.runtime.coupledUrl!;
      const response = await fetch(`${base}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(state.runtime) },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as Message;
    },
    /** The row a query returns at `path` (e.g. `/orders/o-1?minVersion=4`), as an admin. */
    query: async (stack: Stack, path: string) => {
      const base = stack === 'decoupled' ? state.runtime.decoupledUrl! : state.runtime.coupledUrl!;
      const response = await fetch(`${base}${path}`, { headers: authHeaders(state.runtime) });
      expect(response.status).toBe(200);
      return (await response.json()) as Message;
    },
  };
};

const create = (id: string, customerId = 'c-push') => ({
  type: 'order/create',
  aggregateId: id,
  payload: { customerId, currency: 'EUR' },
});

describe('without the projections-table notifier', () => {
  const { open, command, query } = usePushRuntime({ notifier: false });

  test.each(['coupled', 'decoupled'] as const)(
    '%s: given a subscriber, when commands run, then the writer pushes each version at most once, in order, the last one included',
    async (stack) => {
      const id = `w-${stack}-${process.pid}`;
      const client = await open(stack);
      await client.subscribe(id);

      await command(stack, create(id));
      // Each push awaited before the next command: one event per projector batch.
      for (let n = 1; n <= 3; n++) {
        await command(stack, { type: 'order/addLine', aggregateId: id, payload: line(n) });
        await client.next((m) => m.id === id && m.version === n + 1);
      }

      // Both writers hold the events they wrote or folded: the smaller message carries them
      // instead of the row (docs/decisions/push-events-to-fold.md), and the client's fold of every
      // push reaches the row a query returns.
      await expectEventsFolded(
        stack,
        client,
        { id, version: 4, view: 'order', eventType: 'order/lineAdded', path: `/orders/${id}` },
        query,
      );
    },
  );

  test.each(['coupled', 'decoupled'] as const)(
    '%s: given a subscriber the read rule refuses, when the owner’s order changes, then only the owner is pushed it',
    async (stack) => {
      const id = `w-auth-${stack}-${process.pid}`;
      const owner = await open(stack, 'alice');
      const stranger = await open(stack, 'bob');
      // No row yet: both may follow it; the rule is checked at each push.
      await owner.subscribe(id);
      await stranger.subscribe(id);

      await command(stack, create(id, 'alice'));
      await command(stack, { type: 'order/addLine', aggregateId: id, payload: line(1) });

      await owner.next((m) => m.id === id && m.version === 2);
      expectPushed(stack, owner.versionsOf(id), 2);
      // The owner's pushes come from the same fan-out as the stranger's would: none for bob.
      expect(stranger.versionsOf(id)).toEqual([]);
    },
  );
});

describe('without the projections-table notifier, a second domain', () => {
  const { open, command, query } = usePushRuntime({ notifier: false });

  test.each(['coupled', 'decoupled'] as const)(
    '%s: given a shopping list’s owner and a stranger subscribed, when items are added, then the writer pushes each version to the owner only',
    async (stack) => {
      const id = `wl-${stack}-${process.pid}`;
      const owner = await open(stack, 'alice');
      const stranger = await open(stack, 'bob');
      await owner.subscribe(id, 'shopping-lists');
      await stranger.subscribe(id, 'shopping-lists');

      await command(stack, {
        type: 'shoppingList/create',
        aggregateId: id,
        payload: { name: 'Groceries', ownerId: 'alice' },
      });
      // Items long enough that one event is a smaller message than the list of three.
      for (let n = 1; n <= 3; n++) {
        await command(stack, {
          type: 'shoppingList/addItem',
          aggregateId: id,
          payload: { itemId: `i${n}`, text: `Item ${n} `.padEnd(150, '.') },
        });
        await owner.next((m) => m.id === id && m.version === n + 1);
      }

      await expectEventsFolded(
        stack,
        owner,
        {
          id,
          version: 4,
          view: 'shopping-list',
          eventType: 'shoppingList/itemAdded',
          path: `/shopping-lists/${id}`,
        },
        query,
      );
      expect(stranger.versionsOf(id)).toEqual([]);
    },
  );
});

describe('with the projections-table notifier', () => {
  const { state, open, command, query } = usePushRuntime({ notifier: true });

  /** An unmarked row write of `id` (no writer posts it): the notifier's to push. */
  const sentinel = async (stack: Stack, client: Client, id: string) => {
    await client.subscribe(id);
    const doc = DynamoDBDocumentClient.from(localClient());
    try {
      await doc.send(
        new PutCommand({
          TableName: `${state.tablePrefix}-${stack}-read-models`,
          Item: {
            key: storedKey(orderViewProjection, id),
            view: { id, version: 1 },
            applied: { [id]: 1 },
            rev: 1,
          },
        }),
      );
    } finally {
      doc.destroy();
    }
    // The notifier has read the stream up to this write: every row before it was seen.
    await client.next((m) => m.id === id && m.version === 1);
  };

  test.each(['coupled', 'decoupled'] as const)(
    '%s: given the notifier sees the rows the writer posted, when it has read them, then no version is posted twice',
    async (stack) => {
      const id = `n-${stack}-${process.pid}`;
      const client = await open(stack);
      await client.subscribe(id);

      await command(stack, create(id));
      for (let n = 1; n <= 3; n++) {
        await command(stack, { type: 'order/addLine', aggregateId: id, payload: line(n) });
      }
      await client.next((m) => m.id === id && m.version === 4);
      await sentinel(stack, client, `${id}-sentinel`);

      expectPushed(stack, client.versionsOf(id), 4);
      // A projector batch of several versions carries them all (or its row): the fold holds.
      expect(heldAfterPushes(client, id, 'order')).toEqual({
        version: 4,
        view: await query(stack, `/orders/${id}?minVersion=4`),
      });
    },
  );

  test.each(['coupled', 'decoupled'] as const)(
    '%s: given a row rewritten by a re-projection (as a redrive or rebuild writes it), then the notifier pushes it',
    async (stack) => {
      const id = `r-${stack}-${process.pid}`;
      const client = await open(stack);
      await client.subscribe(id);
      await command(stack, create(id));
      await command(stack, { type: 'order/addLine', aggregateId: id, payload: line(1) });
      await client.next((m) => m.id === id && m.version === 2);

      // The row is lost (say, a bad deploy) and re-projected from the event table.
      const table = `${state.tablePrefix}-${stack}-read-models`;
      const doc = DynamoDBDocumentClient.from(localClient());
      try {
        await doc.send(
          new DeleteCommand({ TableName: table, Key: { key: storedKey(orderViewProjection, id) } }),
        );
      } finally {
        doc.destroy();
      }
      const from = client.messages.length;
      const reproject = reprojectorFromEnv({
        [ENV.eventTable]: `${state.tablePrefix}-${stack}-events`,
        [ENV.projectionsTable]: table,
        [ENV.dynamoDbEndpoint]: testEndpoint(),
        AWS_REGION: 'local',
      });
      expect(await reproject([id])).toEqual([
        expect.objectContaining({ aggregateId: id, status: 'reprojected' }),
      ]);

      const pushed = await client.next((m) => m.id === id, from);
      expect(pushed).toMatchObject({ type: 'order/changed', id, version: 2 });
    },
  );
});
