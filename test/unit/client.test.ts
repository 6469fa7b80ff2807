/**
 * The client's pure parts (optimistic view, confirmation, outbox order, backoff), its storages,
 * and the middleware's send discipline against a scripted API (no server; the real runtime is
 * in test/integration/client-*.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import type { StoredEvent } from '../../lambdas/core/events/events';
import {
  ApiError,
  type ApiClient,
  appOutdated,
  backoffDelay,
  clientReducer,
  type ClientState,
  type CommandDispatch,
  type CommandPromise,
  type CommandAnswer,
  type CommandRequest,
  confirmAnswer,
  createApiClient,
  createCommandClient,
  DEFAULT_KEEP_SETTLED_COMMANDS,
  type IdbFactory,
  indexedDbStorage,
  initialClientState,
  memoryStorage,
  NetworkError,
  type OutboxEntry,
  type OutboxStorage,
  selectCommandStatus,
  selectCommandStatuses,
  selectOptimisticView,
  selectOutdated,
  selectView,
  sendCommand,
  toApiError,
  type OrderView,
} from '../../client';
import { jsonFileStorage } from '../../client/node';

const T0 = '2026-11-23T10:00:00.000Z';
let seq = 0;
const entry = (
  aggregateId: string,
  type: OutboxEntry['type'],
  payload: object = {},
  extra: Partial<OutboxEntry> = {},
): OutboxEntry => ({
  commandId: `c${++seq}`,
  seq,
  aggregateId,
  type,
  payload: payload as OutboxEntry['payload'],
  issuedAt: T0,
  attempts: 0,
  ...extra,
});
const line = (lineId: string, quantity = 1) => ({ lineId, sku: 'sku', quantity, unitPrice: 100 });
const queued = (state: ClientState, ...entries: OutboxEntry[]) =>
  entries.reduce((s, e) => clientReducer(s, { type: 'command/queued', payload: e }), state);

const stored = (
  aggregateId: string,
  version: number,
  type: string,
  payload: object,
): StoredEvent => ({
  aggregateId,
  version,
  aggregateType: 'order',
  type,
  payload,
  eventId: `e${version}`,
  occurredAt: T0,
  commandId: `c${version}`,
  commandHash: 'h',
  correlationId: 'k',
  causationId: `c${version}`,
});

describe('optimistic view', () => {
  test('pending commands run through the shared decide and reducer on the confirmed state', () => {
    const create = entry('o1', 'order/create', { customerId: 'cu', currency: 'EUR' });
    const state = queued(
      initialClientState,
      create,
      entry('o1', 'order/addLine', line('a', 2)),
      entry('o1', 'order/addLine', line('b', 3)),
    );
    const view = selectOptimisticView<OrderView>(state, 'o1');
    expect(view.view).toMatchObject({
      id: 'o1',
      status: 'draft',
      lineCount: 2,
      total: 500,
      version: 3,
    });
    expect(view.confirmedVersion).toBe(0);
    expect(view.pending.map((p) => p.events.map((e) => e.type))).toEqual([
      ['order/created'],
      ['order/lineAdded'],
      ['order/lineAdded'],
    ]);
  });

  test('a rejection removes the command and the view is recomputed (no rollback reducer)', () => {
    const create = entry('o1', 'order/create', { customerId: 'cu', currency: 'EUR' });
    const addA = entry('o1', 'order/addLine', line('a'));
    const addAagain = entry('o1', 'order/addLine', line('a', 5));
    const state = queued(initialClientState, create, addA, addAagain);
    // The second addLine of `a` breaks a rule on the optimistic state: shown, not applied.
    const before = selectOptimisticView<OrderView>(state, 'o1');
    expect(before.pending[2]!.wouldReject).toMatchObject({ code: 'RULE_VIOLATED' });
    expect(before.view!.lines.map((l) => l.quantity)).toEqual([1]);

    const after = clientReducer(state, {
      type: 'command/rejected',
      payload: {
        commandId: addA.commandId,
        aggregateId: 'o1',
        status: 422,
        code: 'RULE_VIOLATED',
        message: 'no',
        details: {},
        conflict: false,
      },
    });
    expect(selectView<OrderView>(after, 'o1')!.lines.map((l) => l.quantity)).toEqual([5]);
    expect(selectCommandStatus(after, addA.commandId)).toMatchObject({
      state: 'rejected',
      status: 422,
    });
  });

  test('selectors return the same object for the same slice state', () => {
    const state = queued(
      initialClientState,
      entry('o1', 'order/create', { customerId: 'c', currency: 'EUR' }),
    );
    expect(selectView<OrderView>(state, 'o1')).toBe(selectView<OrderView>(state, 'o1'));
  });
});

describe('confirmation without a re-query', () => {
  const created = stored('o1', 1, 'order/created', { customerId: 'cu', currency: 'EUR' });
  const added = stored('o1', 2, 'order/lineAdded', line('a', 2));

  test('decoupled: the answer events are folded into the confirmed state', () => {
    const one = confirmAnswer(undefined, {
      commandId: 'x',
      aggregateId: 'o1',
      version: 1,
      events: [created],
      replayed: false,
    });
    const two = confirmAnswer(one, {
      commandId: 'y',
      aggregateId: 'o1',
      version: 2,
      events: [added],
      replayed: false,
    });
    expect(two).toMatchObject({ version: 2, view: { lineCount: 1, total: 200, version: 2 } });
  });

  test('coupled: the row is taken as is; an old answer changes nothing; a gap is reported', () => {
    const row = { id: 'o1', version: 7 } as never;
    expect(
      confirmAnswer(undefined, {
        commandId: 'x',
        aggregateId: 'o1',
        version: 7,
        events: [],
        view: row,
        replayed: false,
      }),
    ).toEqual({ version: 7, view: row });
    const known = { version: 5, view: null };
    expect(
      confirmAnswer(known, {
        commandId: 'x',
        aggregateId: 'o1',
        version: 2,
        events: [added],
        replayed: true,
      }),
    ).toBe(known);
    // A coupled replay carries the row at its own (original) version: older than what is known.
    const confirmed7 = { version: 7, view: row };
    expect(
      confirmAnswer(confirmed7, {
        commandId: 'x',
        aggregateId: 'o1',
        version: 6,
        events: [],
        view: { id: 'o1', version: 6 } as never,
        replayed: true,
      }),
    ).toBe(confirmed7);
    expect(
      confirmAnswer(undefined, {
        commandId: 'x',
        aggregateId: 'o1',
        version: 2,
        events: [added],
        replayed: false,
      }),
    ).toBeUndefined();
  });
});

describe('server states from queries and pushes, merged with pending commands the one way', () => {
  const created = stored('o1', 1, 'order/created', { customerId: 'cu', currency: 'EUR' });
  const confirmedAt1 = clientReducer(initialClientState, {
    type: 'command/confirmed',
    payload: { commandId: 'c0', aggregateId: 'o1', version: 1, events: [created], replayed: false },
  });
  /** The server's row at v3: our pending line `a` at v2, another device's line `b` at v3. */
  const rowAt3 = confirmAnswer(confirmedAt1.confirmed.o1, {
    commandId: 'x',
    aggregateId: 'o1',
    version: 3,
    events: [
      stored('o1', 2, 'order/lineAdded', line('a')),
      stored('o1', 3, 'order/lineAdded', line('b')),
    ],
    replayed: false,
  })!;

  test.each(['view/loaded', 'view/pushed'])(
    'given a pending command, when a %s state already containing it arrives, then it is held: the command is not shown as would-be-rejected; once confirmed, the held state is applied',
    (type) => {
      const addA = entry('o1', 'order/addLine', line('a'));
      const pending = queued(confirmedAt1, addA);
      const loaded = clientReducer(pending, { type, payload: { id: 'o1', ...rowAt3 } });

      // Before: the row was confirmed at once, and `addLine a` on it broke the duplicate rule.
      const optimistic = selectOptimisticView<OrderView>(loaded, 'o1');
      expect(optimistic.pending).toEqual([expect.objectContaining({ commandId: addA.commandId })]);
      expect(optimistic.pending[0]!.wouldReject).toBeUndefined();
      expect(optimistic.view!.lines.map((l) => l.lineId)).toEqual(['a']);
      expect(loaded.confirmed.o1!.version).toBe(1);

      const answered = clientReducer(loaded, {
        type: 'command/confirmed',
        payload: {
          commandId: addA.commandId,
          aggregateId: 'o1',
          version: 2,
          events: [stored('o1', 2, 'order/lineAdded', line('a'))],
          replayed: false,
        },
      });
      expect(answered.confirmed.o1).toEqual(rowAt3);
      expect(answered.live.held).toEqual({});
      expect(selectView<OrderView>(answered, 'o1')!.lines.map((l) => l.lineId)).toEqual(['a', 'b']);
    },
  );

  test('versions never go backwards: an older query, push or settled re-read changes nothing', () => {
    const at3 = clientReducer(confirmedAt1, {
      type: 'view/loaded',
      payload: { id: 'o1', ...rowAt3 },
    });
    expect(at3.confirmed.o1!.version).toBe(3);
    const older = { id: 'o1', ...confirmedAt1.confirmed.o1! };
    for (const action of [
      { type: 'view/loaded', payload: older },
      { type: 'view/loaded', payload: { ...older, settledOnly: true } },
      { type: 'view/pushed', payload: older },
    ]) {
      expect(clientReducer(at3, action).confirmed.o1).toBe(at3.confirmed.o1);
    }
    // Held at v3 with a command pending: a query at v2 is not held over it.
    const held = clientReducer(queued(confirmedAt1, entry('o1', 'order/submit')), {
      type: 'view/loaded',
      payload: { id: 'o1', ...rowAt3 },
    });
    const v2 = { id: 'o1', version: 2, view: rowAt3.view };
    expect(clientReducer(held, { type: 'view/loaded', payload: v2 }).live.held.o1).toBe(
      held.live.held.o1,
    );
  });

  test("a re-read at a settled command's version is applied at once, pending commands or not", () => {
    const pending = queued(confirmedAt1, entry('o1', 'order/submit'));
    const reread = clientReducer(pending, {
      type: 'view/loaded',
      payload: { id: 'o1', ...rowAt3, settledOnly: true },
    });
    expect(reread.confirmed.o1).toEqual(rowAt3);
    expect(reread.live.held).toEqual({});
  });
});

describe('bounded memory: settled statuses are pruned', () => {
  const settle = (state: ClientState, e: OutboxEntry, version = 1) =>
    clientReducer(queued(state, e), {
      type: 'command/confirmed',
      payload: {
        commandId: e.commandId,
        aggregateId: e.aggregateId,
        version,
        events: [],
        view: null,
        replayed: false,
      },
    });
  const keptIds = (state: ClientState) =>
    selectCommandStatuses(state)
      .map(([id]) => id)
      .sort();

  test('given more settled commands than the limit, the most recent are kept, and every pending one', () => {
    const limited = clientReducer(initialClientState, {
      type: 'client/configured',
      payload: { keepSettledCommands: 10 },
    });
    const waiting = entry('p', 'order/submit');
    let state = queued(limited, waiting);
    const settledOnes = Array.from({ length: 25 }, (_, i) => entry(`o${i}`, 'order/submit'));
    for (const e of settledOnes) state = settle(state, e);

    expect(keptIds(state)).toEqual(
      [waiting, ...settledOnes.slice(15)].map((e) => e.commandId).sort(),
    );
    expect(state.settledCount).toBe(25);
    // A pruned status reads as unknown to this client; a pending one is never pruned.
    expect(selectCommandStatus(state, settledOnes[14]!.commandId)).toBeUndefined();
    expect(selectCommandStatus(state, waiting.commandId)).toMatchObject({ state: 'pending' });
    expect(selectCommandStatus(state, settledOnes[15]!.commandId)).toMatchObject({
      state: 'confirmed',
    });

    // A lower limit prunes at once.
    const one = clientReducer(state, {
      type: 'client/configured',
      payload: { keepSettledCommands: 1 },
    });
    expect(keptIds(one)).toEqual([waiting, settledOnes[24]!].map((e) => e.commandId).sort());
  });

  test(`by default the last ${DEFAULT_KEEP_SETTLED_COMMANDS} settled statuses are kept; an action copies a bounded part of them`, () => {
    let state = initialClientState;
    const all = Array.from({ length: DEFAULT_KEEP_SETTLED_COMMANDS + 5 }, (_, i) =>
      entry(`o${i}`, 'order/submit'),
    );
    for (const e of all) state = settle(state, e);
    expect(selectCommandStatuses(state)).toHaveLength(DEFAULT_KEEP_SETTLED_COMMANDS);
    expect(selectCommandStatus(state, all[4]!.commandId)).toBeUndefined();
    expect(selectCommandStatus(state, all[5]!.commandId)).toMatchObject({ state: 'confirmed' });
    // The statuses an action copies: the recent ones, and chunks of about sqrt(limit).
    expect(Object.keys(state.commands).length).toBeLessThan(32);
    expect(Math.max(...state.settledChunks.map((c) => c.size))).toBeLessThanOrEqual(32);
  });
});

describe('outbox order and backoff', () => {
  test('the outbox is kept in seq order, whatever order records arrive in', () => {
    const a = entry('o1', 'order/submit');
    const b = entry('o2', 'order/submit');
    const c = entry('o1', 'order/cancel');
    const state = queued(initialClientState, c, a, b);
    expect(state.outbox.map((e) => e.commandId)).toEqual([a, b, c].map((e) => e.commandId));
    // Storage is the truth on restore: a command another tab settled leaves this outbox.
    const restored = clientReducer(state, {
      type: 'outbox/restored',
      payload: { entries: [c, a] },
    });
    expect(restored.outbox.map((e) => e.commandId)).toEqual([a.commandId, c.commandId]);
  });

  test('backoff doubles from the base, is capped, and jitters within its share', () => {
    const policy = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
  });

  test('error answers are typed from the server catalogue; anything else is GATEWAY_ERROR', () => {
    const error = toApiError(422, {
      error: { code: 'RULE_VIOLATED', message: 'm', details: { rule: 'R' } },
    });
    expect(error).toMatchObject({
      status: 422,
      code: 'RULE_VIOLATED',
      message: 'm',
      details: { rule: 'R' },
      isFinal: true,
    });
    expect(toApiError(404, { message: 'Not Found' })).toMatchObject({
      code: 'GATEWAY_ERROR',
      message: 'Not Found',
    });
    expect(toApiError(503, { error: { code: 'NOT_YET_CONSISTENT', message: 'm' } }).isFinal).toBe(
      false,
    );
  });
});

describe.each<[string, () => OutboxStorage]>([
  ['memory', () => memoryStorage()],
  ['IndexedDB', () => indexedDbStorage({ indexedDB: new IDBFactory() as unknown as IdbFactory })],
  ['JSON file', () => jsonFileStorage(join(mkdtempSync(join(tmpdir(), 'outbox-')), 'o.json'))],
])('%s storage', (_name, make) => {
  test('one record per command, loaded in seq order, replaced and removed by commandId', async () => {
    const storage = make();
    const [a, b, c] = [
      entry('o1', 'order/submit'),
      entry('o2', 'order/submit'),
      entry('o1', 'order/cancel'),
    ];
    await storage.put(c!);
    await storage.put(a!);
    await storage.put(b!);
    await storage.put({ ...a!, attempts: 3 });
    await storage.remove(b!.commandId);
    expect(await storage.load()).toEqual([{ ...a!, attempts: 3 }, c]);
  });
});

test('a JSON file outbox survives a restart (a new storage on the same file)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'outbox-')), 'o.json');
  const e = entry('o1', 'order/submit');
  await jsonFileStorage(path).put(e);
  expect(await jsonFileStorage(path).load()).toEqual([e]);
});

// ---- the middleware against a scripted API ----------------------------------------------------

interface Call {
  readonly request: CommandRequest;
  readonly answer: (result: CommandAnswer | Error) => void;
}

const scriptedApi = () => {
  const calls: Call[] = [];
  const waiting: Array<() => void> = [];
  const api = {
    baseUrl: 'scripted',
    sendCommand: (request: CommandRequest) =>
      new Promise<CommandAnswer>((resolve, reject) => {
        calls.push({ request, answer: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
        waiting.splice(0).forEach((w) => w());
      }),
    getHistory: async () => {
      throw new NetworkError('network', 'not scripted');
    },
  } as unknown as ApiClient;
  /** Resolves when `n` sends in all have been made. */
  const sends = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => waiting.push(r));
    return calls;
  };
  return { api, calls, sends };
};

const ok = (request: CommandRequest, version: number): CommandAnswer => {
  const created = request.type === 'order/create';
  return {
    status: 202,
    aggregateId: request.aggregateId,
    version,
    events: [
      stored(
        request.aggregateId,
        version,
        created ? 'order/created' : 'order/submitted',
        created ? { customerId: 'c', currency: 'EUR' } : {},
      ),
    ],
    replayed: false,
    retries: 0,
  };
};

const makeStore = (api: ApiClient, storage: OutboxStorage = memoryStorage(), extra = {}) => {
  const client = createCommandClient({
    api,
    storage,
    channel: null,
    backoff: { baseMs: 1, maxMs: 2, jitter: 0 },
    ...extra,
  });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  // Redux's own `Dispatch` overload comes first in the store's type: name the client's.
  const send: CommandDispatch = store.dispatch;
  return { client, store, send };
};

test('written to the outbox before the first send; one in flight per order; orders in parallel', async () => {
  const { api, calls, sends } = scriptedApi();
  const storage = memoryStorage();
  const puts: string[] = [];
  const spy: OutboxStorage = {
    ...storage,
    put: async (e) => (puts.push(e.commandId), storage.put(e)),
  };
  const { client, store, send } = makeStore(api, spy);
  await client.start();
  const first = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  const second = send(sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }));
  const other = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'B',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  // Shown at once, before any answer.
  expect(store.getState().client.outbox).toHaveLength(3);
  await sends(2);
  expect(puts).toEqual(expect.arrayContaining([first.commandId, other.commandId]));
  expect(calls.map((c) => c.request.commandId)).toEqual([first.commandId, other.commandId]);
  calls[0]!.answer(ok(calls[0]!.request, 1));
  await sends(3);
  expect(calls[2]!.request.commandId).toBe(second.commandId);
  calls[1]!.answer(ok(calls[1]!.request, 1));
  calls[2]!.answer(ok(calls[2]!.request, 2));
  await expect(first).resolves.toMatchObject({ state: 'confirmed', version: 1 });
  await expect(second).resolves.toMatchObject({ state: 'confirmed', version: 2 });
  await client.idle();
  expect(await storage.load()).toEqual([]);
  await client.stop();
});

test('no answer, 408, 429, a gateway answer and any 5xx are resent with the same commandId', async () => {
  const { api, calls, sends } = scriptedApi();
  const { client, store, send } = makeStore(api);
  await client.start();
  const command = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  const failures = [
    new NetworkError('network', 'down'),
    new NetworkError('timeout', 'slow'),
    new ApiError(503, 'TRANSACTION_CONFLICT', 'busy'),
    // Before: a 429 (the stage's throttle) was final, and the command was dropped unsent.
    Object.assign(new ApiError(429, 'GATEWAY_ERROR', 'Too Many Requests'), { retryAfterMs: 1 }),
    new ApiError(408, 'GATEWAY_ERROR', 'Request Timeout'),
    new ApiError(403, 'GATEWAY_ERROR', 'Forbidden'),
    // Before: a 500 was given up after 5 sends, though the first may have committed.
    ...Array.from({ length: 6 }, () => new ApiError(500, 'INTERNAL', 'boom')),
  ];
  for (const [i, failure] of failures.entries()) (await sends(i + 1))[i]!.answer(failure);
  expect(store.getState().client.online).toBe(true);
  const last = failures.length;
  (await sends(last + 1))[last]!.answer(ok(calls[last]!.request, 1));
  await expect(command).resolves.toMatchObject({ state: 'confirmed', version: 1 });
  expect(new Set(calls.map((c) => c.request.commandId))).toEqual(new Set([command.commandId]));
  await client.stop();
});

test('resent past maxPendingMs: settled as unknown, the view re-read, the next command sent', async () => {
  const { api, calls, sends } = scriptedApi();
  const row = { id: 'A', version: 1, status: 'draft', lines: [] } as never;
  const reads: string[] = [];
  (api as { getView: unknown }).getView = async (collection: string, id: string) => {
    reads.push(`${collection}/${id}`);
    return row;
  };
  const { client, store, send } = makeStore(api, memoryStorage(), { maxPendingMs: 30 });
  await client.start();
  const stuck = send(sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }));
  const behind = send(sendCommand({ type: 'order/cancel', aggregateId: 'A', payload: {} }));
  // Every send of the stuck command fails until the client gives it up; the next call is the
  // command behind it (one in flight per aggregate).
  let next = 0;
  for (;;) {
    const call = (await sends(next + 1))[next]!;
    if (call.request.commandId !== stuck.commandId) break;
    call.answer(new ApiError(500, 'INTERNAL', 'boom'));
    next++;
  }
  await expect(stuck).resolves.toEqual({
    state: 'unknown',
    commandId: stuck.commandId,
    aggregateId: 'A',
  });
  expect(selectCommandStatus(store.getState().client, stuck.commandId)).toMatchObject({
    state: 'unknown',
    type: 'order/submit',
    lastError: 'boom',
  });
  await until(() => store.getState().client.confirmed.A !== undefined);
  expect(reads).toEqual(['orders/A']);
  expect(store.getState().client.confirmed.A).toEqual({ version: 1, view: row });
  // It no longer blocks the command behind it.
  calls[next]!.answer(ok(calls[next]!.request, 2));
  await expect(behind).resolves.toMatchObject({ state: 'confirmed' });
  expect(calls[next]!.request.type).toBe('order/cancel');
  await client.stop();
});

test('a 409 on a command with expectedVersion is a conflict, rejected and never re-sent', async () => {
  const { api, calls, sends } = scriptedApi();
  const { client, store, send } = makeStore(api);
  await client.start();
  const command = send(
    sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {}, expectedVersion: 3 }),
  );
  (await sends(1))[0]!.answer(
    new ApiError(409, 'VERSION_CONFLICT', 'moved', { expectedVersion: 3, actualVersion: 4 }),
  );
  const outcome = await command;
  expect(outcome).toMatchObject({
    state: 'rejected',
    status: 409,
    code: 'VERSION_CONFLICT',
    conflict: true,
    details: { actualVersion: 4 },
  });
  expect(store.getState().client.outbox).toEqual([]);
  expect(calls).toHaveLength(1);
  await client.stop();
});

test('two clients on one storage and one lock: only the holder sends; the other sees the outcome', async () => {
  const { api, calls, sends } = scriptedApi();
  const storage = memoryStorage();
  const { memoryLock } = await import('../../client');
  const lock = memoryLock();
  const hub = new Set<(m: never) => void>();
  const channel = () => {
    const own = new Set<(m: never) => void>();
    return {
      post: (m: never) => hub.forEach((l) => !own.has(l) && l(m)),
      subscribe: (l: (m: never) => void) => (own.add(l), hub.add(l), () => hub.delete(l)),
      close: () => undefined,
    };
  };
  const one = makeStore(api, storage, { lock, channel: channel() });
  const two = makeStore(api, storage, { lock, channel: channel() });
  await one.client.start();
  await two.client.start();
  const fromTwo = two.send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  (await sends(1))[0]!.answer(ok(calls[0]!.request, 1));
  await expect(fromTwo).resolves.toMatchObject({ state: 'confirmed', version: 1 });
  expect(one.store.getState().client.sending).toBe(true);
  expect(two.store.getState().client.sending).toBe(false);
  expect(selectView<OrderView>(two.store.getState().client, 'A')).toMatchObject({ version: 1 });
  await one.client.stop();
  await two.client.stop();
  expect(calls).toHaveLength(1);
});

test('a command another tab wrote behind one still being written here waits for it', async () => {
  const { api, calls, sends } = scriptedApi();
  const storage = memoryStorage();
  // This tab's write lands a little later (a macrotask, like IndexedDB's).
  const slow: OutboxStorage = {
    ...storage,
    put: (e) => new Promise((resolve) => setTimeout(() => resolve(storage.put(e)), 20)),
  };
  let listener: ((m: { kind: 'changed' }) => void) | undefined;
  const channel = {
    post: () => undefined,
    subscribe: (l: never) => ((listener = l), () => undefined),
    close: () => undefined,
  };
  const { client, send } = makeStore(api, slow, { channel });
  await client.start();
  const mine = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  // Another tab queues for the same order meanwhile (a later seq) and says so.
  const theirs = entry('A', 'order/submit', {}, { seq: Number.MAX_SAFE_INTEGER });
  await storage.put(theirs);
  listener!({ kind: 'changed' });
  // Before: a send loop started for the order, found its head unwritten, ended and started
  // again, in microtasks only: the write's own callback never ran.
  (await sends(1))[0]!.answer(ok(calls[0]!.request, 1));
  await expect(mine).resolves.toMatchObject({ state: 'confirmed', version: 1 });
  (await sends(2))[1]!.answer(ok(calls[1]!.request, 2));
  expect(calls.map((c) => c.request.commandId)).toEqual([mine.commandId, theirs.commandId]);
  await client.idle();
  await client.stop();
});

test('an answer that does not follow the known version is not folded: the state at that version is read once', async () => {
  const { api, calls, sends } = scriptedApi();
  const row = { id: 'A', version: 5, status: 'submitted', lines: [] } as never;
  const history: unknown[] = [];
  (api as { getHistory: unknown }).getHistory = async (
    collection: string,
    id: string,
    query: unknown,
  ) => {
    history.push([collection, id, query]);
    return { version: 5, state: row };
  };
  const { client, store, send } = makeStore(api);
  await client.start();
  const submit = send(sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }));
  (await sends(1))[0]!.answer(ok(calls[0]!.request, 5));
  await submit;
  await until(() => history.length > 0 && store.getState().client.confirmed.A !== undefined);
  expect(history).toEqual([['orders', 'A', { version: 5 }]]);
  expect(store.getState().client.confirmed.A).toEqual({ version: 5, view: row });
  await client.stop();
});

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

test("the browser's offline/online events: shown in the state, and online retries at once", async () => {
  const events = new EventTarget();
  const global = globalThis as Record<string, unknown>;
  const saved = {
    add: global.addEventListener,
    remove: global.removeEventListener,
    nav: global.navigator,
  };
  Object.assign(global, {
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events),
  });
  Object.defineProperty(global, 'navigator', { value: { onLine: true }, configurable: true });
  try {
    const { api, calls, sends } = scriptedApi();
    // A retry would wait a minute without the online event.
    const { client, store, send } = makeStore(api, memoryStorage(), {
      backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
    });
    await client.start();
    events.dispatchEvent(new Event('offline'));
    expect(store.getState().client.online).toBe(false);
    const command = send(sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }));
    (await sends(1))[0]!.answer(new NetworkError('network', 'down'));
    await until(
      () =>
        selectCommandStatus(store.getState().client, command.commandId)?.state === 'pending' &&
        (selectCommandStatus(store.getState().client, command.commandId) as { attempts: number })
          .attempts === 1,
    );
    events.dispatchEvent(new Event('online'));
    expect(store.getState().client.online).toBe(true);
    (await sends(2))[1]!.answer(ok(calls[1]!.request, 1));
    await expect(command).resolves.toMatchObject({ state: 'confirmed' });
    await client.stop();
  } finally {
    Object.assign(global, { addEventListener: saved.add, removeEventListener: saved.remove });
    Object.defineProperty(global, 'navigator', {
      value: saved.nav,
      configurable: true,
      writable: true,
    });
  }
});

test('a plain Redux store types dispatch(sendCommand(...)) as the command promise', async () => {
  const { api, calls, sends } = scriptedApi();
  const client = createCommandClient({ api, channel: null });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  // No annotation: the store's own type picks the client's overload.
  const promise = store.dispatch(
    sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }),
  );
  const typed: CommandPromise = promise;
  (await sends(1))[0]!.answer(ok(calls[0]!.request, 1));
  await expect(typed).resolves.toMatchObject({ state: 'confirmed', commandId: promise.commandId });
  await client.stop();
});

test('an unexpected failure before the answer (a signing hook that threw) is retried with the same commandId', async () => {
  const { api, calls, sends } = scriptedApi();
  const { client, send, store } = makeStore(api);
  await client.start();
  const command = send(sendCommand({ type: 'order/submit', aggregateId: 'A', payload: {} }));
  (await sends(1))[0]!.answer(new Error('credentials expired'));
  (await sends(2))[1]!.answer(ok(calls[1]!.request, 1));
  await expect(command).resolves.toMatchObject({ state: 'confirmed' });
  expect(calls.map((c) => c.request.commandId)).toEqual([command.commandId, command.commandId]);
  // Not a network failure: the online flag is left as it was.
  expect(store.getState().client.online).toBe(true);
  await client.stop();
});

// ---- the middleware and the real API client against a scripted server --------------------------

type Script = (send: { readonly n: number; readonly elapsedMs: number }) => 'answer' | 'lost' | 500;

/**
 * A server behind the real API client (its `fetch`): it applies a command once per commandId and
 * answers a resend with the original result (`x-command-replayed: true`), as the real one does;
 * `script` says what each send gets back; each send takes `sendMs` of its clock (`now`). `schemaVersion` stamps the events it writes (a newer
 * server's). `GET …/history?version=N` answers the state at N, as the server renders it.
 */
const scriptedServer = (
  options: {
    readonly script?: Script;
    readonly sendMs?: number;
    readonly schemaVersion?: (type: string) => number | undefined;
  } = {},
) => {
  const { script = () => 'answer', sendMs = 0, schemaVersion = () => undefined } = options;
  let clock = Date.parse(T0);
  const log: StoredEvent[] = [];
  const results = new Map<string, { version: number; events: StoredEvent[] }>();
  const sends: Array<{ commandId: string; type: string }> = [];
  const reads: string[] = [];
  let firstSendAt: number | undefined;
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const eventOf = (request: CommandRequest, version: number): StoredEvent => {
    const [type, payload]: [string, object] =
      request.type === 'order/create'
        ? ['order/created', request.payload as object]
        : ['order/lineAdded', { ...(request.payload as object), unitPriceMinor: 100 }];
    const stamped = schemaVersion(type);
    return {
      ...stored(request.aggregateId, version, type, payload),
      ...(stamped !== undefined && { schemaVersion: stamped }),
    };
  };
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    const { pathname, search } = new URL(String(url));
    if (init?.method !== 'POST') {
      reads.push(`${pathname}${search}`);
      const version = Number(new URLSearchParams(search).get('version'));
      const state = confirmAnswer(undefined, {
        commandId: 'read',
        aggregateId: 'A',
        version,
        // The server's rendering: its own events, read by its own (current) code.
        events: log.slice(0, version).map((e) => ({ ...e, schemaVersion: undefined })),
        replayed: false,
      });
      return answer(200, { version, state: state!.view });
    }
    const request = JSON.parse(String(init.body)) as CommandRequest;
    sends.push({ commandId: request.commandId, type: request.type });
    firstSendAt ??= clock;
    clock += sendMs;
    let result = results.get(request.commandId);
    const replayed = result !== undefined;
    if (!result) {
      const event = eventOf(request, log.length + 1);
      log.push(event);
      result = { version: event.version, events: [event] };
      results.set(request.commandId, result);
    }
    const outcome = script({ n: sends.length, elapsedMs: clock - firstSendAt });
    if (outcome === 'lost') throw new TypeError('fetch failed: other side closed');
    if (outcome === 500) return answer(500, { error: { code: 'INTERNAL', message: 'boom' } });
    return answer(
      202,
      { aggregateId: request.aggregateId, ...result },
      { 'x-command-replayed': String(replayed) },
    );
  };
  const api = createApiClient({
    baseUrl: 'http://scripted.test',
    fetch: fetch as typeof globalThis.fetch,
  });
  return { api, log, sends, reads, now: () => new Date(clock).toISOString() };
};

test.each<[string, Script, number]>([
  // The first send commits; its answer never arrives.
  ['an answer lost after the commit', ({ n }) => (n === 1 ? 'lost' : 'answer'), 2],
  // A bad deploy: the first send commits, then every answer is a 500 for a minute.
  [
    'a 500 for 60 s (the first send committed)',
    ({ elapsedMs }) => (elapsedMs < 60_000 ? 500 : 'answer'),
    // Sends at 5 s, 10 s ... 60 s: 11 answered 500, the 12th 202.
    12,
  ],
])('%s, then a 202: confirmed once, applied once', async (_name, script, sends) => {
  const server = scriptedServer({ script, sendMs: 5_000 });
  const { client, store, send } = makeStore(server.api, memoryStorage(), { now: server.now });
  await client.start();
  const command = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  await expect(command).resolves.toMatchObject({ state: 'confirmed', version: 1, replayed: true });
  expect(server.log).toHaveLength(1);
  expect(new Set(server.sends.map((s) => s.commandId))).toEqual(new Set([command.commandId]));
  expect(server.sends.length).toBe(sends);
  expect(store.getState().client.confirmed.A).toMatchObject({
    version: 1,
    view: { status: 'draft' },
  });
  await client.stop();
});

test('a success carrying an event of a newer schema: confirmed with one send, the app outdated, the aggregate read from the server, the next command sent', async () => {
  // A newer server: its `order/created` is at schema version 2, which this code cannot read.
  const server = scriptedServer({
    schemaVersion: (type) => (type === 'order/created' ? 2 : undefined),
  });
  const { client, store, send } = makeStore(server.api);
  await client.start();
  const create = send(
    sendCommand({
      type: 'order/create',
      aggregateId: 'A',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  await expect(create).resolves.toMatchObject({ state: 'confirmed', version: 1 });
  await until(() => store.getState().client.confirmed.A !== undefined);
  // Before: the answer was refused as a failure and resent until maxPendingMs (24 hours).
  expect(server.sends.filter((s) => s.commandId === create.commandId)).toHaveLength(1);
  expect(selectOutdated(store.getState().client)).toEqual({
    reason: expect.stringMatching(/Stored event 1 of aggregate A is unreadable/),
  });
  expect(server.reads).toEqual(['/orders/A/history?version=1']);
  expect(store.getState().client.confirmed.A).toMatchObject({
    version: 1,
    view: { id: 'A', status: 'draft' },
  });
  expect(selectCommandStatus(store.getState().client, create.commandId)).toMatchObject({
    state: 'confirmed',
    version: 1,
  });

  // The aggregate is not blocked: the next command is sent, answered and folded.
  const add = send(sendCommand({ type: 'order/addLine', aggregateId: 'A', payload: line('a') }));
  await expect(add).resolves.toMatchObject({ state: 'confirmed', version: 2 });
  expect(selectView<OrderView>(store.getState().client, 'A')!.lines.map((l) => l.lineId)).toEqual([
    'a',
  ]);
  expect(server.sends).toHaveLength(2);
  await client.idle();
  await client.stop();
});

test("another tab's answer with an event this code cannot read: no throw, the app outdated, the first reason kept", () => {
  const newer = {
    ...stored('A', 1, 'order/created', { customerId: 'c', currency: 'EUR' }),
    schemaVersion: 9,
  };
  const state = clientReducer(initialClientState, {
    type: 'command/confirmed',
    payload: { commandId: 'x', aggregateId: 'A', version: 1, events: [newer], replayed: false },
  });
  expect(state.confirmed.A).toBeUndefined();
  expect(selectCommandStatus(state, 'x')).toMatchObject({ state: 'confirmed', version: 1 });
  expect(selectOutdated(state)?.reason).toMatch(/unreadable/);
  expect(selectOutdated(clientReducer(state, appOutdated('later')))).toBe(selectOutdated(state));
  expect(selectOutdated(initialClientState)).toBeNull();
});
