/**
 * The process runner under faults, on DynamoDB Local, through the workflows handler the cloud
 * runs (lambdas/handlers/workflows.ts): a redelivered batch, a crash between two commands of a
 * step or between two steps, and a timer that releases what a stuck process holds.
 * The crash is a `send` that throws where told to, as a Lambda that dies mid-step would stop.
 */
import { randomUUID } from 'node:crypto';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import type { StoredEvent } from '../../lambdas/core/events/events';
import type { Principal } from '../../lambdas/core/identity/principal';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import {
  createProcessRunner,
  type ProcessRecord,
  type ProcessTimer,
  type SendCommand,
} from '../../lambdas/core/workflows/process-runner';
import { fulfilmentProcess, type FulfilmentState } from '../../lambdas/domain/fulfilment';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import { createWorkflowsHandler, sendThroughRunner } from '../../lambdas/handlers/workflows';
import { createTestTables, type TestTables } from '../support/dynamo';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let store: DynamoDbEventStore;
let run: ReturnType<typeof createCommandRunner>;
const logger = testLogger('workflows');
const ALICE: Principal = { subject: 'alice', roles: [] };
const ADMIN: Principal = { subject: 'admin', roles: ['admin'] };

beforeAll(async () => {
  tables = await createTestTables();
  store = new DynamoDbEventStore(tables.doc, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  run = createCommandRunner({ store, aggregates: AGGREGATES });
});
afterAll(() => tables.drop());

const execute = (
  actor: Principal,
  type: string,
  aggregateId: string,
  payload: Record<string, unknown> = {},
) =>
  run(
    { type, aggregateId, payload, commandId: randomUUID() },
    {
      correlationId: `click-${aggregateId}`,
      actor,
      now: () => new Date().toISOString(),
      newId: randomUUID,
    },
  );

/** Stock of each SKU, and a submitted order of alice's with one line per SKU. */
const submittedOrder = async (lines: Record<string, number>, stock: Record<string, number>) => {
  for (const [sku, quantity] of Object.entries(stock)) {
    await execute(ADMIN, 'inventory/receive', sku, { quantity });
  }
  const id = `o-${randomUUID().slice(0, 8)}`;
  await execute(ALICE, 'order/create', id, { currency: 'EUR' });
  let n = 0;
  for (const [sku, quantity] of Object.entries(lines)) {
    await execute(ALICE, 'order/addLine', id, {
      lineId: `l${++n}`,
      sku,
      quantity,
      unitPrice: 100,
    });
  }
  await execute(ALICE, 'order/submit', id);
  return id;
};

/** The workflows handler with a `send` that fails where `failOn` says, and the timers it set. */
const workflows = (failOn: (type: string, sku: string) => boolean = () => false) => {
  const timers: ProcessTimer[] = [];
  const real = sendThroughRunner(run);
  const send: SendCommand = async (command, context) => {
    if (failOn(command.type, command.aggregateId)) throw new Error(`crash before ${command.type}`);
    return real(command, context);
  };
  const runner = createProcessRunner({
    managers: [fulfilmentProcess],
    rows: new DynamoDbProjectionRows(tables.doc, tables.projectionsTable),
    events: store,
    send,
    timers: { schedule: async (timer) => void timers.push(timer) },
    log: logger,
  });
  const handle = createWorkflowsHandler({
    runner,
    logger,
    aggregateTypes: AGGREGATES.map((a) => a.type),
  });
  return { handle, runner, timers };
};

/** The order's whole log as one stream batch (what Lambda would deliver, or redeliver). */
const batchOf = async (orderId: string) =>
  streamEvent((await store.load(orderId)).map((e: StoredEvent) => streamRecord(e)));

const typesOf = async (id: string) => (await store.load(id)).map((e) => e.type);
const recordOf = async (runner: ReturnType<typeof workflows>['runner'], orderId: string) =>
  (await runner.recordOf(fulfilmentProcess, orderId)) as ProcessRecord<FulfilmentState> | undefined;

test('given a handled batch, when it is delivered again, then nothing new is sent or written', async () => {
  const sku = `s-${randomUUID().slice(0, 6)}`;
  const orderId = await submittedOrder({ [sku]: 2 }, { [sku]: 5 });
  const { handle } = workflows();
  const batch = await batchOf(orderId);
  expect(await handle(batch)).toEqual({ batchItemFailures: [] });
  const order = await typesOf(orderId);
  const stock = await typesOf(sku);
  expect(order.at(-1)).toBe('order/confirmed');

  expect(await handle(batch)).toEqual({ batchItemFailures: [] });
  // And through a new instance (nothing cached): the record's checkpoint says it is done.
  expect(await workflows().handle(batch)).toEqual({ batchItemFailures: [] });
  expect(await typesOf(orderId)).toEqual(order);
  expect(await typesOf(sku)).toEqual(stock);
});

test('given a crash after the reservations, when the batch is redelivered, then the order is confirmed and each SKU reserved once', async () => {
  const [a, b] = [`s-${randomUUID().slice(0, 6)}`, `s-${randomUUID().slice(0, 6)}`];
  const orderId = await submittedOrder({ [a]: 1, [b]: 2 }, { [a]: 5, [b]: 5 });
  const crashing = workflows((type) => type === 'order/confirm');
  const batch = await batchOf(orderId);
  const submitted = batch.Records.at(-1)!.dynamodb!.SequenceNumber;

  expect((await crashing.handle(batch)).batchItemFailures).toEqual([{ itemIdentifier: submitted }]);
  const stuck = await recordOf(crashing.runner, orderId);
  expect([...stuck!.state!.reserved].sort()).toEqual([a, b].sort());
  expect(Object.values(stuck!.pending)).toEqual([
    { step: 1, send: [expect.objectContaining({ type: 'order/confirm' })] },
  ]);

  const healthy = workflows();
  expect(await healthy.handle(batch)).toEqual({ batchItemFailures: [] });
  expect((await typesOf(orderId)).at(-1)).toBe('order/confirmed');
  expect(await typesOf(a)).toEqual(['inventory/received', 'inventory/reserved']);
  expect(await typesOf(b)).toEqual(['inventory/received', 'inventory/reserved']);
  const done = await recordOf(healthy.runner, orderId);
  expect(done).toMatchObject({ state: { status: 'confirmed' }, pending: {} });
});

test('given a crash between two reservations of one step, when redelivered, then the first is not made twice', async () => {
  const [a, b] = [`s-${randomUUID().slice(0, 6)}`, `s-${randomUUID().slice(0, 6)}`];
  const orderId = await submittedOrder({ [a]: 1, [b]: 1 }, { [a]: 5, [b]: 5 });
  const batch = await batchOf(orderId);
  expect((await workflows((_, sku) => sku === b).handle(batch)).batchItemFailures).toHaveLength(1);
  expect(await typesOf(a)).toEqual(['inventory/received', 'inventory/reserved']);

  expect(await workflows().handle(batch)).toEqual({ batchItemFailures: [] });
  expect(await typesOf(a)).toEqual(['inventory/received', 'inventory/reserved']);
  expect(await typesOf(b)).toEqual(['inventory/received', 'inventory/reserved']);
  expect((await typesOf(orderId)).at(-1)).toBe('order/confirmed');
});

test('given a process stuck after reserving, when its timer fires, then the stock is released and the order rejected as timed out', async () => {
  const [a, b] = [`s-${randomUUID().slice(0, 6)}`, `s-${randomUUID().slice(0, 6)}`];
  const orderId = await submittedOrder({ [a]: 2, [b]: 3 }, { [a]: 5, [b]: 5 });
  const stuck = workflows((type) => type === 'order/confirm');
  const batch = await batchOf(orderId);
  expect((await stuck.handle(batch)).batchItemFailures).toHaveLength(1);
  const [timer] = stuck.timers;
  expect(timer).toMatchObject({ manager: 'order-fulfilment@v1', processKey: orderId });
  expect(Date.parse(timer!.dueAt) - Date.now()).toBeGreaterThan(14 * 60 * 1000);

  const later = workflows();
  await later.handle({ processTimer: timer! });
  const order = await store.load(orderId);
  expect(order.at(-1)).toMatchObject({
    type: 'order/rejected',
    payload: { reason: 'timed-out', skusShort: [] },
    actor: 'process:order-fulfilment',
  });
  expect(await typesOf(a)).toEqual([
    'inventory/received',
    'inventory/reserved',
    'inventory/released',
  ]);
  expect(await typesOf(b)).toEqual([
    'inventory/received',
    'inventory/reserved',
    'inventory/released',
  ]);

  // The timer again: fired once. The stuck batch again: its confirm is refused, nothing more.
  await later.handle({ processTimer: timer! });
  expect(await later.handle(batch)).toEqual({ batchItemFailures: [] });
  expect((await typesOf(orderId)).at(-1)).toBe('order/rejected');
  expect(await typesOf(a)).toHaveLength(3);
  expect(await typesOf(b)).toHaveLength(3);
});

test('given a submit whose step failed and was given up on, when a later event of the order arrives, then the submit runs first and nothing stays reserved', async () => {
  const a = `s-${randomUUID().slice(0, 6)}`;
  const orderId = await submittedOrder({ [a]: 2 }, { [a]: 5 });
  const submitted = await batchOf(orderId);
  // Every reservation fails: the batch is dead-lettered, the stream moves on.
  expect(
    (await workflows((type) => type === 'inventory/reserve').handle(submitted)).batchItemFailures,
  ).toHaveLength(1);
  await execute(ALICE, 'order/cancel', orderId);
  const [cancelled] = (await store.load(orderId, { afterVersion: submitted.Records.length })).map(
    (e) => streamRecord(e),
  );

  // Only the cancel is delivered: the submit, above the process's checkpoint, runs before it.
  const healthy = workflows();
  expect(await healthy.handle(streamEvent([cancelled!]))).toEqual({ batchItemFailures: [] });
  expect(await typesOf(a)).toEqual([
    'inventory/received',
    'inventory/reserved',
    'inventory/released',
  ]);
  expect(await recordOf(healthy.runner, orderId)).toMatchObject({
    state: { status: 'cancelled', reserved: [] },
    pending: {},
  });
});

test('given a timer due before its process was ever written, when it fires, then it is not spent: the timer set again by the redriven step still fires', async () => {
  const a = `s-${randomUUID().slice(0, 6)}`;
  const orderId = await submittedOrder({ [a]: 1 }, { [a]: 5 });
  const batch = await batchOf(orderId);
  const failing = workflows((type) => type === 'inventory/reserve');
  expect((await failing.handle(batch)).batchItemFailures).toHaveLength(1);
  const [early] = failing.timers;
  await workflows().handle({ processTimer: early! });
  expect(await recordOf(failing.runner, orderId)).toBeUndefined();

  const stuck = workflows((type) => type === 'order/confirm');
  expect((await stuck.handle(batch)).batchItemFailures).toHaveLength(1);
  expect(stuck.timers.map((t) => t.id)).toEqual([early!.id]);
  await workflows().handle({ processTimer: stuck.timers[0]! });
  expect((await store.load(orderId)).at(-1)).toMatchObject({
    type: 'order/rejected',
    payload: { reason: 'timed-out' },
  });
});
