/**
 * Live updates in the client, the pure part and the socket discipline: the subscription
 * reducer, how pushed versions reconcile with pending commands (never applied twice), and the
 * live client against a scripted socket and API (a row read only after the server acknowledged
 * its subscription, subscribe errors and early closes surfaced as the subscription's status) (the real runtime is in
 * test/integration/client-live.test.ts).
 */
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import {
  type ApiClient,
  ApiError,
  clientReducer,
  type ClientState,
  createLiveClient,
  initialClientState,
  type LiveSocket,
  type OrderView,
  type OutboxEntry,
  selectLastPushedVersion,
  selectLiveConnected,
  selectOptimisticView,
  selectView,
  selectSubscribedIds,
  selectSubscriptionStatus,
  subscribeTo,
  unsubscribeFrom,
} from '../../client';

import { toAction } from '../../lambdas/core/events/events';
import { stamp } from '../../lambdas/core/given';
import { viewRowAfter } from '../../lambdas/core/projections/collections';
import { pushedEventOf } from '../../lambdas/core/push/push';
import { orderViewProjection } from '../../lambdas/domain/order/projections';

const T0 = '2026-11-23T10:00:00.000Z';
let seq = 0;
const entry = (
  aggregateId: string,
  type: OutboxEntry['type'],
  payload: object = {},
): OutboxEntry => ({
  commandId: `c${++seq}`,
  seq,
  aggregateId,
  type,
  payload: payload as OutboxEntry['payload'],
  issuedAt: T0,
  attempts: 0,
});
const line = (lineId: string, quantity = 1) => ({ lineId, sku: 'sku', quantity, unitPrice: 100 });
const create = () => entry('o1', 'order/create', { customerId: 'cu', currency: 'EUR' });
const queued = (state: ClientState, ...entries: OutboxEntry[]) =>
  entries.reduce((s, e) => clientReducer(s, { type: 'command/queued', payload: e }), state);

/** The server's row after `lines` addLine commands (version lines + 1), built with the domain. */
const serverRow = (lines: number): OrderView =>
  selectView<OrderView>(
    queued(
      initialClientState,
      create(),
      ...Array.from({ length: lines }, (_, i) => entry('o1', 'order/addLine', line(`l${i}`))),
    ),
    'o1',
  )!;

const pushed = (order: OrderView) => ({
  type: 'view/pushed',
  payload: { id: order.id, version: order.version, view: order },
});
const confirmed = (commandId: string, version: number) => ({
  type: 'command/confirmed',
  payload: { commandId, aggregateId: 'o1', version, events: [], replayed: false },
});

describe('subscription reducer', () => {
  test('subscribe, unsubscribe, connection and last version', () => {
    let state = clientReducer(initialClientState, pushed(serverRow(0)));
    state = clientReducer(state, subscribeTo('orders', 'o1'));
    expect(selectSubscribedIds(state)).toEqual(['o1']);
    // Starts at the version already known, so an older push is ignored.
    expect(selectLastPushedVersion(state, 'o1')).toBe(1);
    state = clientReducer(state, pushed(serverRow(2)));
    expect(selectLastPushedVersion(state, 'o1')).toBe(3);
    expect(state.confirmed.o1!.version).toBe(3);
    const same = clientReducer(state, pushed(serverRow(1)));
    expect(same).toBe(state);
    expect(selectLiveConnected(state)).toBe(false);
    state = clientReducer(state, { type: 'live/connection', payload: { connected: true } });
    expect(selectLiveConnected(state)).toBe(true);
    state = clientReducer(state, unsubscribeFrom('o1'));
    expect(selectSubscribedIds(state)).toEqual([]);
    expect(selectLastPushedVersion(state, 'o1')).toBeUndefined();
  });

  test('a pushed version is confirmed at once when nothing is pending', () => {
    const state = clientReducer(initialClientState, pushed(serverRow(1)));
    expect(state.confirmed.o1).toEqual({ version: 2, view: serverRow(1) });
  });
});

describe('pushed versions and pending commands', () => {
  test('a push that already contains our pending command does not apply it twice', () => {
    // Confirmed at v2 (one line). Our addLine l1 is in flight; the server applies it (v3) and
    // the push arrives before our HTTP answer.
    let state = clientReducer(initialClientState, pushed(serverRow(1)));
    const mine = entry('o1', 'order/addLine', line('l1'));
    state = queued(state, mine);
    expect(selectView<OrderView>(state, 'o1')!.lineCount).toBe(2);

    state = clientReducer(state, pushed(serverRow(2)));
    // Folding the outbox on v3 would add l1 again (or show it as rejected): the push is held.
    const view = selectOptimisticView<OrderView>(state, 'o1');
    expect(view.view!.lineCount).toBe(2);
    expect(view.pending[0]!.wouldReject).toBeUndefined();
    expect(state.confirmed.o1!.version).toBe(2);

    // Our answer (v3) settles the command; the held state is no newer, the view stays at 2 lines.
    state = clientReducer(state, confirmed(mine.commandId, 3));
    expect(state.outbox).toEqual([]);
    expect(state.live.held).toEqual({});
    expect(selectView<OrderView>(state, 'o1')).toMatchObject({ version: 3, lineCount: 2 });
  });

  test('a held push newer than our answer is released once the outbox is empty', () => {
    let state = clientReducer(initialClientState, pushed(serverRow(1)));
    const mine = entry('o1', 'order/addLine', line('l1'));
    state = queued(state, mine);
    // Someone else added l2 after our l1: v4 pushed while our command is pending.
    state = clientReducer(state, pushed(serverRow(3)));
    expect(state.confirmed.o1!.version).toBe(2);
    state = clientReducer(state, confirmed(mine.commandId, 3));
    expect(state.confirmed.o1).toEqual({ version: 4, view: serverRow(3) });
    expect(selectView<OrderView>(state, 'o1')!.lineCount).toBe(3);
  });

  test('a rejected pending command also releases the held state', () => {
    let state = clientReducer(initialClientState, pushed(serverRow(1)));
    const mine = entry('o1', 'order/addLine', line('l9'));
    state = queued(state, mine);
    state = clientReducer(state, pushed(serverRow(2)));
    state = clientReducer(state, {
      type: 'command/rejected',
      payload: {
        commandId: mine.commandId,
        aggregateId: 'o1',
        status: 422,
        code: 'RULE_VIOLATED',
        message: 'no',
        details: {},
        conflict: false,
      },
    });
    expect(state.confirmed.o1!.version).toBe(3);
  });

  test('pending commands of another order do not hold this one', () => {
    let state = queued(
      initialClientState,
      entry('o2', 'order/create', { customerId: 'c', currency: 'EUR' }),
    );
    state = clientReducer(state, pushed(serverRow(1)));
    expect(state.confirmed.o1!.version).toBe(2);
  });
});

// ---- the live client against a scripted socket ----------------------------------------------

class FakeSocket implements LiveSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  serverClose() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

const setup = (rows: Map<string, OrderView>, reads: unknown[]) => {
  const api = {
    async getView(_collection: string, id: string, query: { minVersion?: number } = {}) {
      reads.push({ id, ...query });
      const row = rows.get(id);
      if (!row) throw new ApiError(404, 'NOT_FOUND', 'no', {});
      return row;
    },
  } as unknown as ApiClient;
  const live = createLiveClient({
    url: 'ws://test',
    api,
    WebSocket: FakeSocket,
    heartbeatMs: 1_000,
    maxConnectionMs: 60_000,
    backoff: { baseMs: 100, maxMs: 1_000, jitter: 0 },
  });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(live.middleware),
  );
  return { live, store };
};

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('live client', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  });
  afterEach(() => jest.useRealTimers());

  test('subscribes, takes an inline row, fetches after a poke, ignores old versions', async () => {
    const rows = new Map([['o1', serverRow(0)]]);
    const reads: unknown[] = [];
    const { live, store } = setup(rows, reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    const socket = FakeSocket.all[0]!;
    socket.open();
    await flush();
    expect(socket.sent).toEqual([{ action: 'subscribe', collection: 'orders', id: 'o1' }]);
    socket.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 1 });
    await flush();
    expect(reads).toEqual([{ id: 'o1', minVersion: 1 }]);
    expect(selectLiveConnected(store.getState().client)).toBe(true);
    expect(store.getState().client.confirmed.o1!.version).toBe(1);

    socket.receive({ type: 'order/changed', id: 'o1', version: 2, order: serverRow(1) });
    expect(store.getState().client.confirmed.o1!.version).toBe(2);
    expect(reads).toHaveLength(1);

    rows.set('o1', serverRow(3));
    socket.receive({ type: 'order/changed', id: 'o1', version: 4 });
    await flush();
    expect(reads).toEqual([
      { id: 'o1', minVersion: 1 },
      { id: 'o1', minVersion: 4 },
    ]);
    expect(store.getState().client.confirmed.o1!.version).toBe(4);

    socket.receive({ type: 'order/changed', id: 'o1', version: 3 });
    await flush();
    expect(reads).toHaveLength(2);

    // A deletion: no row to hold, nothing to fetch; the order is gone (GET would answer 404).
    socket.receive({ type: 'order/deleted', id: 'o1', version: 5 });
    await flush();
    expect(reads).toHaveLength(2);
    expect(store.getState().client.confirmed.o1).toEqual({ version: 5, view: null });
    live.stop();
  });

  test('given the client holds the version before a push’s events, when they come, then it folds them into the server’s row without a read; after a gap, it reads the row', async () => {
    const log = stamp('o1', [
      { type: 'order/created', payload: { customerId: 'cu', currency: 'EUR' } },
      ...[1, 2, 3].map((n) => ({
        type: 'order/lineAdded',
        payload: { lineId: `l${n}`, sku: 'sku', quantity: n, unitPriceMinor: 100 },
      })),
    ]);
    /** The row the server writes at `version`: its view folded over the log. */
    const rowAt = (version: number) =>
      viewRowAfter(orderViewProjection, 'o1', log.slice(0, version).map(toAction), undefined)!
        .row as OrderView;
    const rows = new Map([['o1', rowAt(1)]]);
    const reads: unknown[] = [];
    const { live, store } = setup(rows, reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    const socket = FakeSocket.all[0]!;
    socket.open();
    socket.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 1 });
    await flush();
    expect(store.getState().client.confirmed.o1).toEqual({ version: 1, view: rowAt(1) });

    socket.receive({
      type: 'order/changed',
      id: 'o1',
      version: 2,
      events: [pushedEventOf(log[1]!)],
    });
    expect(store.getState().client.confirmed.o1).toEqual({ version: 2, view: rowAt(2) });
    expect(reads).toHaveLength(1);

    // Version 3 missed: the events of 4 do not follow 2, so the row is read at (least) 4.
    rows.set('o1', rowAt(4));
    socket.receive({
      type: 'order/changed',
      id: 'o1',
      version: 4,
      events: [pushedEventOf(log[3]!)],
    });
    await flush();
    expect(reads).toEqual([
      { id: 'o1', minVersion: 1 },
      { id: 'o1', minVersion: 4 },
    ]);
    expect(store.getState().client.confirmed.o1).toEqual({ version: 4, view: rowAt(4) });
    live.stop();
  });

  test('given a subscribe not acknowledged yet, when pushed events follow nothing held, then nothing is read before the ack, and the ack’s read reaches their version', async () => {
    const row = { ...serverRow(1), version: 2 };
    const reads: unknown[] = [];
    const { live, store } = setup(new Map([['o1', row]]), reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    const socket = FakeSocket.all[0]!;
    socket.open();
    const event = { version: 2, type: 'order/lineAdded', payload: {}, eventId: 'e2' };
    socket.receive({ type: 'order/changed', id: 'o1', version: 2, events: [event] });
    await flush();
    expect(reads).toEqual([]);

    // The ack read its version before the change: the read still asks for the pushed one.
    socket.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 1 });
    await flush();
    expect(reads).toEqual([{ id: 'o1', minVersion: 2 }]);
    expect(store.getState().client.confirmed.o1!.version).toBe(2);
    live.stop();
  });

  test('a tombstone-shaped row (an older server pushed the stub) is no order', async () => {
    const { live, store } = setup(new Map([['o1', serverRow(0)]]), []);
    store.dispatch(subscribeTo('orders', 'o1'));
    const socket = FakeSocket.all[0]!;
    socket.open();
    await flush();
    const stub = { id: 'o1', version: 6, deleted: true, updatedAt: '2026-01-01T00:00:00.000Z' };
    socket.receive({ type: 'order/changed', id: 'o1', version: 6, order: stub });
    expect(store.getState().client.confirmed.o1).toEqual({ version: 6, view: null });
    live.stop();
  });

  test('heartbeat under the idle timeout, reconnect with backoff and a resync', async () => {
    const rows = new Map([['o1', serverRow(0)]]);
    const reads: unknown[] = [];
    const { live, store } = setup(rows, reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    await flush();
    jest.advanceTimersByTime(1_000);
    expect(FakeSocket.all[0]!.sent).toEqual([
      { action: 'subscribe', collection: 'orders', id: 'o1' },
      { action: 'subscribe', collection: 'orders', id: 'o1' },
    ]);

    // Dropped; the order changed meanwhile (no push reached us).
    FakeSocket.all[0]!.serverClose();
    expect(selectLiveConnected(store.getState().client)).toBe(false);
    rows.set('o1', serverRow(4));
    jest.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.open();
    await flush();
    expect(FakeSocket.all[1]!.sent).toEqual([
      { action: 'subscribe', collection: 'orders', id: 'o1' },
    ]);
    FakeSocket.all[1]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 5 });
    await flush();
    expect(store.getState().client.confirmed.o1!.version).toBe(5);
    expect(selectLiveConnected(store.getState().client)).toBe(true);
    live.stop();
  });

  test('given a subscribe sent, when no acknowledgement came yet, then nothing is read and the subscription is pending', async () => {
    const reads: unknown[] = [];
    const { live, store } = setup(new Map([['o1', serverRow(2)]]), reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    await flush();
    expect(reads).toEqual([]);
    expect(selectSubscriptionStatus(store.getState().client, 'o1')?.status).toBe('pending');

    // The ack: version 3, above what we know (nothing): read at least at 3.
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 3 });
    await flush();
    expect(reads).toEqual([{ id: 'o1', minVersion: 3 }]);
    expect(store.getState().client.confirmed.o1!.version).toBe(3);
    expect(selectSubscriptionStatus(store.getState().client, 'o1')).toEqual({
      collection: 'orders',
      lastVersion: 3,
      status: 'confirmed',
    });
    live.stop();
  });

  test('given the version is already known, when the ack carries it, then nothing is read', async () => {
    const reads: unknown[] = [];
    const { live, store } = setup(new Map([['o1', serverRow(2)]]), reads);
    store.dispatch(pushed(serverRow(2)));
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 3 });
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 0 });
    await flush();
    expect(reads).toEqual([]);
    expect(selectSubscriptionStatus(store.getState().client, 'o1')?.status).toBe('confirmed');
    live.stop();
  });

  test('given an older server, when its ack has no version, then the row is read after the ack', async () => {
    const reads: unknown[] = [];
    const { live, store } = setup(new Map([['o1', serverRow(0)]]), reads);
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1' });
    await flush();
    expect(reads).toEqual([{ id: 'o1' }]);
    expect(store.getState().client.confirmed.o1!.version).toBe(1);
    live.stop();
  });

  test('given a deleted order, when the ack carries its version and GET answers 404, then the order is gone', async () => {
    const { live, store } = setup(new Map(), []);
    store.dispatch(pushed(serverRow(1)));
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 4 });
    await flush();
    expect(store.getState().client.confirmed.o1).toEqual({ version: 4, view: null });
    live.stop();
  });

  test('when the server answers a subscribe with an error, then the subscription is failed with it, and the other one is not', async () => {
    const { live, store } = setup(new Map([['o1', serverRow(0)]]), []);
    store.dispatch(subscribeTo('orders', 'o1'));
    store.dispatch(subscribeTo('invoices', 'i1'));
    const socket = FakeSocket.all[0]!;
    socket.open();
    const error = { code: 'NOT_FOUND', message: 'No collection invoices here', details: {} };
    socket.receive({ type: 'error', action: 'subscribe', collection: 'invoices', id: 'i1', error });
    socket.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 0 });
    const state = store.getState().client;
    expect(selectSubscriptionStatus(state, 'i1')).toMatchObject({ status: 'failed', error });
    expect(selectSubscriptionStatus(state, 'o1')).toMatchObject({ status: 'confirmed' });
    expect(selectSubscriptionStatus(state, 'o1')).not.toHaveProperty('error');
    live.stop();
  });

  test('when the socket closes before the ack, then the subscription is failed (CONNECTION_CLOSED) until the next socket confirms it', async () => {
    const { live, store } = setup(new Map([['o1', serverRow(0)]]), []);
    store.dispatch(subscribeTo('orders', 'o1'));
    store.dispatch(subscribeTo('orders', 'o2'));
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: 'subscribed', collection: 'orders', id: 'o2', version: 0 });
    FakeSocket.all[0]!.serverClose();
    const status = (id: string) => selectSubscriptionStatus(store.getState().client, id);
    expect(status('o1')).toMatchObject({ status: 'failed', error: { code: 'CONNECTION_CLOSED' } });
    // A confirmed one is no longer confirmed without a socket: pending until the next ack.
    expect(status('o2')?.status).toBe('pending');

    // The status changes do not reconnect early: the backoff is kept.
    expect(FakeSocket.all).toHaveLength(1);
    jest.advanceTimersByTime(100);
    FakeSocket.all[1]!.open();
    expect(status('o1')?.status).toBe('pending');
    FakeSocket.all[1]!.receive({ type: 'subscribed', collection: 'orders', id: 'o1', version: 1 });
    expect(status('o1')).toMatchObject({ status: 'confirmed' });
    expect(status('o1')).not.toHaveProperty('error');
    live.stop();
  });

  test('reconnects before the maximum connection time; no socket when nothing is followed', async () => {
    const { live, store } = setup(new Map([['o1', serverRow(0)]]), []);
    store.dispatch(subscribeTo('orders', 'o1'));
    FakeSocket.all[0]!.open();
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[0]!.readyState).toBe(3);
    FakeSocket.all[1]!.open();
    store.dispatch(unsubscribeFrom('o1'));
    expect(FakeSocket.all[1]!.readyState).toBe(3);
    live.stop();
  });
});
