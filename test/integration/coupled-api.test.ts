/**
 * The coupled Lambda on DynamoDB Local: the command answer carries the fresh row (the order's
 * view, written to the projections table in the command's transaction), the row equals what the decoupled projector builds from the same commands, concurrency and
 * idempotency hold, and transaction clashes (which DynamoDB Local never raises) are retried
 * within bounds and answered 409/503, never 500.
 */
import {
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommandRunner, type RetryPolicy } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { appendWithViews, createCoupledApiHandler } from '../../lambdas/handlers/coupled-api';
import { AGGREGATES, COLLECTIONS, PROJECTIONS } from '../../lambdas/handlers/deployment';
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { orderLifecycle } from '../support/order-script';
import { streamEvent, streamRecord } from '../support/stream-events';

let coupled: TestTables;
let decoupled: TestTables;
let send: ReturnType<typeof coupledHandlerFromEnv>;
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;
const logger = testLogger('coupled');

beforeAll(async () => {
  [coupled, decoupled] = await Promise.all([createTestTables(), createTestTables()]);
  // Generous deadline: these tests check retries end gapless, not the bound (command-deadline.test.ts).
  send = coupledHandlerFromEnv(coupled.env, { logger, commandDeadlineMs: 60_000 });
  store = new DynamoDbEventStore(coupled.doc, coupled.eventTable);
  rows = new DynamoDbProjectionRows(coupled.doc, coupled.projectionsTable);
});
afterAll(() => Promise.all([coupled.drop(), decoupled.drop()]));

/** The order's view as stored in the projections table (`order@v1#<id>`). */
const storedView = async (id: string) =>
  (await rows.get(storedKey(orderViewProjection, id)))?.view as OrderView | undefined;

/** A coupled handler over `doc`, wired as coupledHandlerFromEnv wires it. */
const coupledOver = (
  doc: DynamoDBDocumentClient,
  options: { readonly now?: () => string; readonly retry?: RetryPolicy } = {},
) => {
  const { retry, now } = options;
  const events = new DynamoDbEventStore(doc, coupled.eventTable);
  const viewRows = new DynamoDbProjectionRows(doc, coupled.projectionsTable);
  return createCoupledApiHandler({
    logger,
    now,
    events,
    readModels: { projections: PROJECTIONS, rows: viewRows },
    collections: COLLECTIONS,
    runCommand: createCommandRunner({
      store: events,
      aggregates: AGGREGATES,
      append: appendWithViews(events, { collections: COLLECTIONS, rows: viewRows }),
      retry,
    }),
  });
};

/** `GET /orders/{id}...` through the generic collection routes. */
const orderRoute = (route: '' | '/events', id: string) =>
  httpEvent({
    routeKey: `GET /{collection}/{id}${route}`,
    pathParameters: { collection: 'orders', id },
  });

let n = 0;
const newOrderId = () => `c-order-${process.pid}-${n++}`;
const addLine = (aggregateId: string, lineId: string, extra: Record<string, unknown> = {}) =>
  send(
    command({
      type: 'order/addLine',
      aggregateId,
      payload: { lineId, sku: 'S', quantity: 2, unitPrice: 150 },
      ...extra,
    }),
  );
const create = (aggregateId: string) =>
  send(
    command({ type: 'order/create', aggregateId, payload: { customerId: 'c-1', currency: 'EUR' } }),
  );

test('a command answers 200 with the fresh row, already stored', async () => {
  const id = newOrderId();
  await create(id);
  const result = await addLine(id, 'a');
  expect(result.statusCode).toBe(200);
  const body = bodyOf<{ version: number; events: unknown[]; order: OrderView }>(result);
  expect(body).toMatchObject({
    aggregateId: id,
    version: 2,
    order: { id, version: 2, lineCount: 1, total: 300 },
  });
  expect(body.events).toHaveLength(1);
  expect(await rows.get(storedKey(orderViewProjection, id))).toMatchObject({
    view: body.order,
    applied: { [id]: 2 },
  });
});

test('after order/delete the answer has order: null; the row is kept as deleted, GET answers 404', async () => {
  const id = newOrderId();
  await create(id);
  const result = await send(command({ type: 'order/delete', aggregateId: id }));
  expect(bodyOf(result)).toMatchObject({ version: 2, order: null });
  expect(await storedView(id)).toMatchObject({ id, version: 2, status: 'deleted' });
  const get = await send(orderRoute('', id));
  expect(get.statusCode).toBe(404);
  expect(bodyOf(get)).toMatchObject({ error: { message: `order ${id} not found` } });
});

test('the same command script gives the same read model in both profiles', async () => {
  // A fixed clock and ids, so the two rows may be compared field by field.
  const fixed = { now: () => '2026-03-04T05:06:07.000Z' };
  const id = newOrderId();
  const coupledHandler = coupledOver(coupled.doc, fixed);
  const decoupledCommand = commandHandlerFromEnv(decoupled.env, { logger });
  const decoupledStore = new DynamoDbEventStore(decoupled.doc, decoupled.eventTable);
  // The decoupled handler stamps its own clock: the rows are compared without timestamps.
  const sendDecoupled = (body: Record<string, unknown>) => decoupledCommand(command(body));
  for (const step of orderLifecycle(id)) {
    expect((await coupledHandler(command(step))).statusCode).toBe(200);
    expect((await sendDecoupled(step)).statusCode).toBe(202);
  }
  const project = projectorHandlerFromEnv(decoupled.env, { logger });
  await project(streamEvent((await decoupledStore.load(id)).map((e) => streamRecord(e))));
  const query = queryHandlerFromEnv(decoupled.env, { logger });
  const decoupledRow = bodyOf<OrderView>(await query(orderRoute('', id)));
  const coupledRow = bodyOf<OrderView>(await send(orderRoute('', id)));
  const withoutTimes = ({ createdAt: _c, updatedAt: _u, ...rest }: OrderView) => rest;
  expect(withoutTimes(coupledRow)).toEqual(withoutTimes(decoupledRow));
  expect(coupledRow).toMatchObject({
    status: 'cancelled',
    version: 8,
    total: 7 * 999,
    lineCount: 2,
    cancelReason: 'too slow',
  });
});

test('the GET routes are served by the coupled function too', async () => {
  const id = newOrderId();
  await create(id);
  const events = await send(orderRoute('/events', id));
  expect(bodyOf<{ events: unknown[] }>(events).events).toHaveLength(1);
  const list = await send(
    httpEvent({
      routeKey: 'GET /{collection}',
      pathParameters: { collection: 'orders' },
      query: { customerId: 'c-1', status: 'draft' },
    }),
  );
  expect(list.statusCode).toBe(200);
  expect(bodyOf<{ items: OrderView[] }>(list).items).toContainEqual(
    expect.objectContaining({ id, version: 1 }),
  );
});

describe('concurrency and idempotency', () => {
  test('50 concurrent commands with the same expectedVersion: one 200, 49 x 409, row at version 2', async () => {
    const id = newOrderId();
    await create(id);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => addLine(id, `l${i}`, { expectedVersion: 1 })),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(49);
    expect((await store.load(id)).map((e) => e.version)).toEqual([1, 2]);
    expect(await storedView(id)).toMatchObject({ version: 2, lineCount: 1 });
  });

  test('50 concurrent commands without expectedVersion: all succeed, gapless, the row has all 50 lines', async () => {
    const id = newOrderId();
    await create(id);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => addLine(id, `l${i}`)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect((await store.load(id)).map((e) => e.version)).toEqual(
      Array.from({ length: 51 }, (_, i) => i + 1),
    );
    expect(await storedView(id)).toMatchObject({ version: 51, lineCount: 50 });
  });

  test('one commandId sent twice, in sequence and at once: appended once, the same answer', async () => {
    const id = newOrderId();
    await create(id);
    const first = await addLine(id, 'a', { commandId: 'k-1' });
    const again = await addLine(id, 'a', { commandId: 'k-1' });
    expect(bodyOf(again)).toEqual(bodyOf(first));
    const together = await Promise.all([
      addLine(id, 'b', { commandId: 'k-2' }),
      addLine(id, 'b', { commandId: 'k-2' }),
    ]);
    expect(together.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(bodyOf(together[0]!)).toEqual(bodyOf(together[1]!));
    expect((await store.load(id)).map((e) => e.version)).toEqual([1, 2, 3]);
  });
});

describe('transaction clashes (injected: DynamoDB Local never raises them)', () => {
  /** A document client whose TransactWriteItems fails `times` times with `fault`, then works. */
  const faultyClient = (times: number, fault: () => Error) => {
    let failures = 0;
    const client = {
      calls: 0,
      send(cmd: { constructor: { name: string } }) {
        if (cmd.constructor.name === 'TransactWriteCommand') {
          client.calls++;
          if (failures < times) {
            failures++;
            return Promise.reject(fault());
          }
        }
        return (coupled.doc.send as (c: unknown) => Promise<unknown>)(cmd);
      },
    };
    return client;
  };
  const canceled = () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
  const conflict = () => new TransactionConflictException({ message: 'conflict', $metadata: {} });

  const handlerWith = (client: ReturnType<typeof faultyClient>, maxAttempts: number) =>
    coupledOver(client as unknown as DynamoDBDocumentClient, {
      retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 5 },
    });

  test.each([
    ['TransactionCanceled (TransactionConflict)', canceled],
    ['TransactionConflictException', conflict],
  ])('%s is retried and then succeeds', async (_name, fault) => {
    const id = newOrderId();
    await create(id);
    const client = faultyClient(2, fault);
    const result = await handlerWith(
      client,
      5,
    )(
      command({
        type: 'order/addLine',
        aggregateId: id,
        payload: { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 },
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(client.calls).toBe(3);
    expect(await storedView(id)).toMatchObject({ version: 2 });
  });

  test('retries are bounded: then 503 TRANSACTION_CONFLICT with Retry-After, nothing written', async () => {
    const id = newOrderId();
    await create(id);
    const client = faultyClient(100, canceled);
    const result = await handlerWith(
      client,
      4,
    )(
      command({
        type: 'order/addLine',
        aggregateId: id,
        payload: { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 },
      }),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(bodyOf(result)).toMatchObject({ error: { code: 'TRANSACTION_CONFLICT' } });
    expect(client.calls).toBe(4);
    expect((await store.load(id)).map((e) => e.version)).toEqual([1]);
  });

  test('a cancelled transaction whose event condition failed is a 409 version conflict', async () => {
    const id = newOrderId();
    await create(id);
    const lost = () =>
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      });
    const client = faultyClient(100, lost);
    const result = await handlerWith(
      client,
      3,
    )(
      command({
        type: 'order/addLine',
        aggregateId: id,
        expectedVersion: 1,
        payload: { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 },
      }),
    );
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'VERSION_CONFLICT', details: { expectedVersion: 1, actualVersion: 1 } },
    });
  });
});
