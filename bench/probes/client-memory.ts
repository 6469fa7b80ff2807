/**
 * Whether one Node client store stays flat over many commands (docs/guide/client.md, "Memory"):
 * the real command client and reducer, against an in-process fake API that answers each command
 * at once with the events the aggregate's own `decide` makes (no network, no server). Commands
 * go in waves, one per order over `orders` orders (create, then add and remove a line in turn),
 * so at most `orders` are pending at a time. Per block: the reducer's time per command (every
 * action a command makes: queued, confirmed...), the heap after a full GC, and the statuses kept.
 * Run: node --expose-gc --import tsx bench/probes/client-memory.ts [commands] [block] [orders]
 */
import { applyMiddleware, combineReducers, legacy_createStore, type UnknownAction } from 'redux';
import type { StoredEvent } from '../../lambdas/core/events/events';
import type { Principal } from '../../lambdas/core/identity/principal';
import {
  type ApiClient,
  type ClientState,
  type CommandAnswer,
  type CommandDispatch,
  type CommandRequest,
  CLIENT_AGGREGATES,
  clientReducer,
  createCommandClient,
  memoryStorage,
  selectCommandStatuses,
  sendCommand,
  type SendCommandAction,
} from '../../client';

const total = Number(process.argv[2] ?? 100_000);
const block = Number(process.argv[3] ?? 10_000);
const orders = Number(process.argv[4] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('Run with node --expose-gc (the heap is read after a full GC)');

const T0 = Date.parse('2026-12-05T00:00:00.000Z');

/** The caller of every command: an admin, refused nothing (the probe measures memory). */
const PROBE_ACTOR: Principal = { subject: 'probe-admin', roles: ['admin'] };

/** The server, in process: each aggregate's state and version, each command applied once. */
const fakeApi = (): ApiClient => {
  const aggregates = new Map<string, { state: unknown; version: number }>();
  const sendCommand = async (request: CommandRequest): Promise<CommandAnswer> => {
    const aggregate = CLIENT_AGGREGATES.find((a) => request.type.startsWith(`${a.type}/`))!;
    const known = aggregates.get(request.aggregateId) ?? {
      state: aggregate.initialState,
      version: 0,
    };
    const now = new Date(T0 + known.version * 1000).toISOString();
    const decided = aggregate.decide(
      known.state,
      { type: request.type, payload: request.payload },
      { aggregateId: request.aggregateId, version: known.version, now, actor: PROBE_ACTOR },
    );
    const events: StoredEvent[] = decided.map((event, i) => ({
      aggregateId: request.aggregateId,
      version: known.version + i + 1,
      aggregateType: aggregate.type,
      type: event.type,
      payload: event.payload as Record<string, unknown>,
      eventId: `${request.commandId}:${i}`,
      occurredAt: now,
      commandId: request.commandId,
      commandHash: 'h',
      correlationId: request.commandId,
      causationId: request.commandId,
    }));
    const state = events.reduce(
      (s, e) =>
        aggregate.reducer(s, {
          type: e.type,
          payload: e.payload,
          meta: {
            aggregateId: e.aggregateId,
            version: e.version,
            occurredAt: e.occurredAt,
            eventId: e.eventId,
            correlationId: e.correlationId,
          },
        }),
      known.state,
    );
    const version = known.version + events.length;
    aggregates.set(request.aggregateId, { state, version });
    return {
      status: 202,
      aggregateId: request.aggregateId,
      version,
      events,
      replayed: false,
      retries: 0,
    };
  };
  const unused = () => Promise.reject(new Error('not served by the fake API'));
  return {
    baseUrl: 'in-process',
    sendCommand,
    getView: unused,
    listViews: unused,
    getEvents: unused,
    getHistory: unused,
    getReadModel: unused,
  };
};

/** The n-th command of an order: create, then add and remove line `a` in turn. */
const commandOf = (id: string, n: number): SendCommandAction['payload'] =>
  n === 0
    ? { type: 'order/create', aggregateId: id, payload: { customerId: 'c', currency: 'EUR' } }
    : n % 2 === 1
      ? {
          type: 'order/addLine',
          aggregateId: id,
          payload: { lineId: 'a', sku: 'A', quantity: 1, unitPrice: 100 },
        }
      : { type: 'order/removeLine', aggregateId: id, payload: { lineId: 'a' } };

const main = async () => {
  let reducerMs = 0;
  const timedReducer = (state: ClientState | undefined, action: UnknownAction) => {
    const started = performance.now();
    const next = clientReducer(state, action);
    reducerMs += performance.now() - started;
    return next;
  };
  const client = createCommandClient({ api: fakeApi(), storage: memoryStorage(), channel: null });
  const store = legacy_createStore(
    combineReducers({ client: timedReducer }),
    applyMiddleware(client.middleware),
  );
  const dispatch: CommandDispatch = store.dispatch;
  await client.start();

  console.log(`${total} commands over ${orders} orders, one Node store, blocks of ${block}`);
  console.log('commands  reducer µs/command  heap MB  statuses kept  outcomes not confirmed');
  let sent = 0;
  let notConfirmed = 0;
  let blockStart = { reducerMs: 0 };
  for (let wave = 0; sent < total; wave++) {
    const count = Math.min(orders, total - sent);
    const outcomes = await Promise.all(
      Array.from({ length: count }, (_, i) => dispatch(sendCommand(commandOf(`o-${i}`, wave)))),
    );
    notConfirmed += outcomes.filter((o) => o.state !== 'confirmed').length;
    sent += count;
    if (sent % block === 0 || sent === total) {
      gc!();
      const perCommand = ((reducerMs - blockStart.reducerMs) * 1000) / block;
      const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
      const kept = selectCommandStatuses(store.getState().client).length;
      console.log(
        `${String(sent).padStart(8)}  ${perCommand.toFixed(1).padStart(18)}  ${heapMb.toFixed(1).padStart(7)}  ${String(kept).padStart(13)}  ${String(notConfirmed).padStart(22)}`,
      );
      blockStart = { reducerMs };
    }
  }
  await client.idle();
  await client.stop();
};

void main();
