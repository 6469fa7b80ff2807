/**
 * The client signed in: the API client's token provider (the header sent; a 401 refreshes once
 * and resends once; a second 401 is a SignInRequiredError), the outbox per user (each entry
 * records who queued it, is sent only with their token, a refused sign-in holds it unsent, a
 * sign-out removes it), the prediction running the aggregates' own rules for the principal,
 * and the live client's token in the URL. Against a scripted `fetch` and socket, no server.
 */
import { IDBFactory } from 'fake-indexeddb';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import { ORDER_PERMISSIONS } from '../../lambdas/domain/order/permissions';
import {
  type ApiClient,
  clientReducer,
  type CommandDispatch,
  createApiClient,
  createCommandClient,
  createLiveClient,
  type IdbFactory,
  identityChanged,
  indexedDbStorage,
  initialClientState,
  type LiveSocket,
  memoryStorage,
  type OrderView,
  type OutboxEntry,
  type OutboxStorage,
  predictRejection,
  principalOfToken,
  selectOptimisticView,
  selectSignInRequired,
  sendCommand,
  SignInRequiredError,
  subscribeTo,
  type TokenProvider,
  viewLoaded,
} from '../../client';

/** An unsigned JWT with these claims: the client only decodes tokens, the gateway verifies them. */
const tokenFor = (sub: string, extra: Record<string, unknown> = {}) => {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part({ sub, exp: 4_102_444_800, ...extra })}.c2ln`;
};

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

/**
 * A scripted API over `fetch`: it accepts the tokens in `valid` (any other answers 401 as the
 * gateway does), answers each command 202 at the next version, and anything else 404.
 */
const scriptedFetch = (valid: Set<string>) => {
  const seen: Seen[] = [];
  let version = 0;
  const fetch = (async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const body = init.body === undefined ? undefined : JSON.parse(String(init.body));
    seen.push({ method: String(init.method), url, authorization: headers.authorization, body });
    const token = headers.authorization?.replace(/^Bearer /, '');
    if (token === undefined || !valid.has(token)) {
      return new Response('{"message":"Unauthorized"}', { status: 401 });
    }
    if (url.endsWith('/commands')) {
      const { aggregateId } = body as { aggregateId: string };
      return new Response(JSON.stringify({ aggregateId, version: ++version, events: [] }), {
        status: 202,
      });
    }
    return new Response('{"error":{"code":"NOT_FOUND","message":"no"}}', { status: 404 });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen };
};

/** A token provider that answers `tokens` in turn (the last one again once they run out). */
const providerOf = (...tokens: Array<string | undefined>) => {
  const asked: Array<{ refresh?: boolean } | undefined> = [];
  const provider: TokenProvider = (options) => {
    asked.push(options);
    return tokens.length > 1 ? tokens.shift() : tokens[0];
  };
  return { provider, asked };
};

const submit = { type: 'order/submit', aggregateId: 'o1', payload: {}, commandId: 'c1' } as const;

describe('the API client with a token provider', () => {
  test('given a token, when a request is sent, then it carries it as a bearer token', async () => {
    const alice = tokenFor('alice');
    const { fetch, seen } = scriptedFetch(new Set([alice]));
    const { provider } = providerOf(alice);
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: provider });

    await api.sendCommand(submit);

    expect(seen.map((s) => s.authorization)).toEqual([`Bearer ${alice}`]);
  });

  test('given an expired token, when the server answers 401, then one refreshed token is asked for and the request resent once', async () => {
    const [expired, fresh] = [tokenFor('alice', { v: 1 }), tokenFor('alice', { v: 2 })];
    const { fetch, seen } = scriptedFetch(new Set([fresh]));
    const { provider, asked } = providerOf(expired, fresh);
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: provider });

    const answer = await api.sendCommand(submit);

    expect(answer.version).toBe(1);
    expect(asked).toEqual([undefined, { refresh: true }]);
    expect(seen.map((s) => s.authorization)).toEqual([`Bearer ${expired}`, `Bearer ${fresh}`]);
    expect(seen[1]!.body).toEqual(seen[0]!.body);
  });

  test('given a refreshed token refused too, when the request is sent, then it fails with SignInRequiredError after two sends', async () => {
    const { fetch, seen } = scriptedFetch(new Set());
    const { provider, asked } = providerOf(
      tokenFor('alice', { v: 1 }),
      tokenFor('alice', { v: 2 }),
    );
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: provider });

    const failure = await api.getView('orders', 'o1').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SignInRequiredError);
    expect(failure).toMatchObject({ reason: 'refused' });
    expect(asked).toHaveLength(2);
    expect(seen).toHaveLength(2);
  });

  test("given a command queued by alice, when bob is signed in, then it is not sent and fails with SignInRequiredError 'other-user'", async () => {
    const bob = tokenFor('bob');
    const { fetch, seen } = scriptedFetch(new Set([bob]));
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: () => bob });

    const failure = await api
      .sendCommand({ ...submit, user: 'alice' })
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ reason: 'other-user', user: 'alice', signedIn: 'bob' });
    expect(seen).toEqual([]);
  });

  test('given a token, when the principal is asked for, then it is the subject and roles it names', async () => {
    const api = createApiClient({
      baseUrl: 'http://api',
      token: async () => tokenFor('sam', { 'cognito:groups': ['support', 'other'] }),
    });
    expect(await api.principal!()).toEqual({ subject: 'sam', roles: ['support'] });
    expect(principalOfToken('not a token')).toBeUndefined();
  });
});

// ---- the command client, per user ----------------------------------------------------------

const storeWith = (api: ApiClient, storage: OutboxStorage) => {
  const client = createCommandClient({
    api,
    storage,
    channel: null,
    backoff: { baseMs: 1, maxMs: 5, jitter: 0 },
  });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  const dispatch: CommandDispatch = store.dispatch;
  return { client, store, dispatch };
};

const stored = (commandId: string, user: string, seq: number): OutboxEntry => ({
  commandId,
  seq,
  aggregateId: `order-of-${user}`,
  type: 'order/submit',
  payload: {},
  issuedAt: '2026-12-01T10:00:00.000Z',
  attempts: 0,
  user,
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/** A memory outbox that records every record written. */
const recordingStorage = () => {
  const inner = memoryStorage();
  const written: OutboxEntry[] = [];
  const storage: OutboxStorage = {
    ...inner,
    put: async (entry) => {
      written.push(entry);
      await inner.put(entry);
    },
  };
  return { storage, written };
};

describe('the outbox per user', () => {
  test('given a signed-in user, when a command is dispatched, then its entry records them and is sent with their token', async () => {
    const alice = tokenFor('alice');
    const { fetch, seen } = scriptedFetch(new Set([alice]));
    const { storage, written } = recordingStorage();
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: () => alice });
    const { client, dispatch } = storeWith(api, storage);
    await client.start();

    const outcome = dispatch(
      sendCommand({ type: 'order/create', aggregateId: 'o1', payload: { currency: 'EUR' } }),
    );

    expect(await outcome).toMatchObject({ state: 'confirmed' });
    expect(written.map((e) => e.user)).toEqual(['alice']);
    expect(seen.map((s) => s.authorization)).toEqual([`Bearer ${alice}`]);
    await client.stop();
  });

  test('given a command dispatched before start() knew who is signed in, when its record is written, then it records the user all the same', async () => {
    const alice = tokenFor('alice');
    const { fetch } = scriptedFetch(new Set([alice]));
    const { storage, written } = recordingStorage();
    // The provider answers later than the dispatch (as a token read from storage would).
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: async () => alice });
    const { client, store, dispatch } = storeWith(api, storage);

    const outcome = dispatch(sendCommand({ type: 'order/submit', aggregateId: 'o1', payload: {} }));

    expect(store.getState().client.outbox[0]!.user).toBeUndefined();
    expect(await outcome).toMatchObject({ state: 'confirmed' });
    expect(written.map((e) => e.user)).toEqual(['alice']);
    await client.stop();
  });

  test("given alice's and bob's entries in one storage, when bob's client starts, then only bob's are shown and sent", async () => {
    const bob = tokenFor('bob');
    const { fetch, seen } = scriptedFetch(new Set([bob]));
    const storage = memoryStorage([stored('a1', 'alice', 1), stored('b1', 'bob', 2)]);
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: () => bob });
    const { client, store } = storeWith(api, storage);

    await client.start();
    await client.idle();

    expect(seen.map((s) => (s.body as { commandId: string }).commandId)).toEqual(['b1']);
    expect(store.getState().client.outbox).toEqual([]);
    expect((await storage.load()).map((e) => e.commandId)).toEqual(['a1']);
    await client.stop();
  });

  test('given a token refused twice, when a command is sent, then it is held unsent until the user signs in again', async () => {
    const [stale, fresh] = [tokenFor('alice', { v: 1 }), tokenFor('alice', { v: 2 })];
    const { fetch, seen } = scriptedFetch(new Set([fresh]));
    let current = stale;
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: () => current });
    const { client, store, dispatch } = storeWith(api, memoryStorage());
    await client.start();

    const outcome = dispatch(sendCommand({ type: 'order/submit', aggregateId: 'o1', payload: {} }));
    await settle();

    // Sent once and resent once with the "refreshed" token (the same one here), then held.
    expect(seen).toHaveLength(2);
    expect(selectSignInRequired(store.getState().client)).toMatchObject({ reason: 'refused' });
    expect(store.getState().client.outbox).toHaveLength(1);
    client.retryNow();
    await settle();
    expect(seen).toHaveLength(2);

    current = fresh;
    await client.signedIn();

    expect(await outcome).toMatchObject({ state: 'confirmed' });
    expect(seen.at(-1)!.authorization).toBe(`Bearer ${fresh}`);
    expect(selectSignInRequired(store.getState().client)).toBeNull();
    await client.stop();
  });

  test("given alice signed in with pending commands, when she signs out, then her entries leave IndexedDB and the state, and bob's stay", async () => {
    const indexedDB = new IDBFactory() as unknown as IdbFactory;
    const storage = indexedDbStorage({ name: 'sign-out', indexedDB });
    await storage.put(stored('b1', 'bob', 1));
    const alice = tokenFor('alice');
    // The server is away: alice's commands stay pending.
    const fetch = (async () => {
      throw new Error('offline');
    }) as unknown as typeof globalThis.fetch;
    const api = createApiClient({ baseUrl: 'http://api', fetch, token: () => alice });
    const { client, store, dispatch } = storeWith(api, storage);
    await client.start();
    store.dispatch(viewLoaded({ ...order('o1', 'alice'), version: 1 }));
    const outcome = dispatch(sendCommand({ type: 'order/submit', aggregateId: 'o1', payload: {} }));
    await settle();
    expect((await storage.load()).map((e) => e.user)).toEqual(['bob', 'alice']);

    await client.signOut();

    expect((await storage.load()).map((e) => e.commandId)).toEqual(['b1']);
    const state = store.getState().client;
    expect({
      principal: state.principal,
      outbox: state.outbox,
      confirmed: state.confirmed,
    }).toEqual({ principal: null, outbox: [], confirmed: {} });
    expect(await outcome).toMatchObject({ state: 'unknown' });
    await client.stop();
  });
});

// ---- the prediction runs the rules -----------------------------------------------------------

const order = (id: string, customerId: string): OrderView => ({
  id,
  customerId,
  currency: 'EUR',
  status: 'draft',
  lines: [],
  lineCount: 0,
  total: 0,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  version: 1,
});

const pendingOn = (principal: { subject: string; roles: Array<'support' | 'admin'> }) => {
  let state = clientReducer(initialClientState, identityChanged(principal));
  state = clientReducer(state, viewLoaded(order('o1', 'alice')));
  return (type: OutboxEntry['type'], payload: object = {}) => {
    const entry: OutboxEntry = {
      commandId: `p-${type}`,
      seq: 1,
      aggregateId: 'o1',
      type,
      payload: payload as OutboxEntry['payload'],
      issuedAt: '2026-12-01T10:01:00.000Z',
      attempts: 0,
      user: principal.subject,
    };
    const queued = clientReducer(state, { type: 'command/queued', payload: entry });
    return selectOptimisticView(queued, 'o1').pending[0]!.wouldReject;
  };
};

describe('the prediction for the signed-in principal', () => {
  test("given support, when they add a line to alice's order, then it is predicted rejected as the server's 403 says it", () => {
    const predicted = pendingOn({ subject: 'sam', roles: ['support'] });
    expect(
      predicted('order/addLine', { lineId: 'l', sku: 'S', quantity: 1, unitPrice: 1 }),
    ).toEqual({
      code: 'FORBIDDEN',
      status: 403,
      message: ORDER_PERMISSIONS.OWNER_ONLY,
      details: { rule: 'OWNER_ONLY', aggregateId: 'o1', type: 'order/addLine' },
    });
    expect(predicted('order/cancel')).toBeUndefined();
  });

  test("given a customer who may not read alice's order, when they cancel it, then it is predicted NOT_FOUND (404), never 403", () => {
    const predicted = pendingOn({ subject: 'bob', roles: [] });
    expect(predicted('order/cancel')).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  test('given the owner, when a control asks whether submit would apply, then the rules pass and decide answers', () => {
    const alice = { subject: 'alice', roles: [] };
    const view = { view: order('o1', 'alice'), version: 1 };
    expect(predictRejection(view, 'o1', { type: 'order/cancel', payload: {} }, alice)).toBe(
      undefined,
    );
    expect(
      predictRejection(view, 'o1', { type: 'order/submit', payload: {} }, alice),
    ).toMatchObject({ code: 'RULE_VIOLATED' });
  });

  test.each([
    ['alice (the owner)', { subject: 'alice', roles: [] as Array<'support' | 'admin'> }],
    ['support', { subject: 'sam', roles: ['support'] as Array<'support' | 'admin'> }],
  ])(
    "given %s, when they would confirm or reject alice's order, then it is predicted 403 WORKFLOW_ONLY",
    (_who, principal) => {
      const predicted = pendingOn(principal);
      for (const [type, payload] of [
        ['order/confirm', {}],
        ['order/reject', { reason: 'timed-out', skusShort: [] }],
      ] as const) {
        expect(predicted(type, payload)).toMatchObject({
          code: 'FORBIDDEN',
          status: 403,
          message: ORDER_PERMISSIONS.WORKFLOW_ONLY,
          details: { rule: 'WORKFLOW_ONLY' },
        });
      }
    },
  );

  test("given alice's draft with a line, when she submits it, then the optimistic view stops at submitted (the workflow confirms it on the server)", () => {
    let state = clientReducer(initialClientState, identityChanged({ subject: 'alice', roles: [] }));
    state = clientReducer(
      state,
      viewLoaded({
        ...order('o1', 'alice'),
        lines: [{ lineId: 'a', sku: 'SKU-A', quantity: 1, unitPrice: 100, amount: 100 }],
        lineCount: 1,
        total: 100,
      }),
    );
    const submit: OutboxEntry = {
      commandId: 'p-submit',
      seq: 1,
      aggregateId: 'o1',
      type: 'order/submit',
      payload: {},
      issuedAt: '2026-12-01T10:01:00.000Z',
      attempts: 0,
      user: 'alice',
    };
    state = clientReducer(state, { type: 'command/queued', payload: submit });
    const view = selectOptimisticView<OrderView>(state, 'o1');
    expect(view.pending[0]!.wouldReject).toBeUndefined();
    expect(view.view).toMatchObject({ status: 'submitted', version: 2 });
  });

  test("given alice's views, when bob signs in, then the state keeps nothing of alice", () => {
    let state = clientReducer(initialClientState, identityChanged({ subject: 'alice', roles: [] }));
    state = clientReducer(state, viewLoaded(order('o1', 'alice')));
    state = clientReducer(state, identityChanged({ subject: 'bob', roles: [] }));
    expect(state.confirmed).toEqual({});
    expect(state.principal).toEqual({ subject: 'bob', roles: [] });
  });
});

// ---- the live client's token ------------------------------------------------------------------

class FakeSocket implements LiveSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send() {}
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverClose() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

describe('the live client with a token provider', () => {
  test('given a token provider, when the socket connects and reconnects, then each URL carries a token asked for then, refreshed after a refused connect', async () => {
    FakeSocket.all = [];
    const { provider, asked } = providerOf('t1', 't2', 't3');
    const live = createLiveClient({
      url: 'ws://live/stage',
      api: { getView: () => new Promise(() => undefined) } as unknown as ApiClient,
      WebSocket: FakeSocket,
      token: async (options) => provider(options),
      backoff: { baseMs: 1, maxMs: 1, jitter: 0 },
    });
    const store = legacy_createStore(
      combineReducers({ client: clientReducer }),
      applyMiddleware(live.middleware),
    );
    const nextSocket = async (count: number) => {
      while (FakeSocket.all.length < count) await new Promise((r) => setTimeout(r, 2));
      return FakeSocket.all[count - 1]!;
    };

    store.dispatch(subscribeTo('orders', 'o1'));
    const first = await nextSocket(1);
    first.open();
    first.serverClose(); // a drop after it opened: the token was fine
    const second = await nextSocket(2);
    second.serverClose(); // closed before it opened: a refused upgrade
    await nextSocket(3);
    live.stop();

    expect(FakeSocket.all.map((s) => s.url)).toEqual([
      'ws://live/stage?token=t1',
      'ws://live/stage?token=t2',
      'ws://live/stage?token=t3',
    ]);
    expect(asked).toEqual([undefined, undefined, { refresh: true }]);
  });
});
