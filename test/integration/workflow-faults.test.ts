/**
 * The process runner under faults, on DynamoDB Local, through the workflows handler the cloud
 * runs (lambdas/handlers/workflows.ts): a redelivered batch, a crash between two commands of a
 * step or between two steps, and a timer that releases what a stuck process holds.
 * The crash is a `send` that throws where told to, as a Lambda that dies mid-step would stop.
 */
import { randomUUID } from 'node:crypto';
import { createTestTables, type TestTables } from '../support/dynamo';
import { ALICE, fulfilmentOn } from '../support/fulfilment';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let on: ReturnType<typeof fulfilmentOn>;

beforeAll(async () => {
  tables = await createTestTables();
  on = fulfilmentOn(tables);
});
afterAll(() => tables.drop());

const submittedOrder = (lines: Record<string, number>, stock: Record<string, number>) =>
  on.submittedOrder(lines, stock);
const workflows = (failOn?: (type: string, aggregateId: string) => boolean) => on.workflows(failOn);
const batchOf = (aggregateId: string) => on.batchOf(aggregateId);
const typesOf = (aggregateId: string) => on.typesOf(aggregateId);

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
  const stuck = await crashing.recordOf(orderId);
  expect([...stuck!.state!.reserved].sort()).toEqual([a, b].sort());
  expect(Object.values(stuck!.pending)).toEqual([
    { step: 1, send: [expect.objectContaining({ type: 'order/confirm' })] },
  ]);

  const healthy = workflows();
  expect(await healthy.handle(batch)).toEqual({ batchItemFailures: [] });
  expect((await typesOf(orderId)).at(-1)).toBe('order/confirmed');
  expect(await typesOf(a)).toEqual(['inventory/received', 'inventory/reserved']);
  expect(await typesOf(b)).toEqual(['inventory/received', 'inventory/reserved']);
  const done = await healthy.recordOf(orderId);
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
  const order = await on.store.load(orderId);
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

test('given an order whose whole log arrives in one batch, when the workflows function runs it, then it reads nothing back; given only a later event, it reads the log from version 1 if a process reacts to that event, else nothing', async () => {
  const a = `s-${randomUUID().slice(0, 6)}`;
  const orderId = await submittedOrder({ [a]: 2 }, { [a]: 5 });
  const batch = await batchOf(orderId);
  const whole = workflows();
  expect(await whole.handle(batch)).toEqual({ batchItemFailures: [] });
  expect(whole.loads.filter((l) => l.aggregateId === orderId)).toEqual([]);
  expect((await typesOf(orderId)).at(-1)).toBe('order/confirmed');

  // The confirm the process sent, delivered alone: no process reacts to it.
  const confirmed = (await on.store.load(orderId)).at(-1)!;
  const later = workflows();
  expect(await later.handle(streamEvent([streamRecord(confirmed)]))).toEqual({
    batchItemFailures: [],
  });
  expect(later.loads).toEqual([]);

  // The submit delivered again, alone: the state before it needs the whole log.
  const submitted = batch.Records.at(-1)!;
  expect(await later.handle(streamEvent([submitted]))).toEqual({ batchItemFailures: [] });
  expect(later.loads.filter((l) => l.aggregateId === orderId)).toEqual([
    { aggregateId: orderId, options: { toVersion: batch.Records.length } },
  ]);
  expect((await typesOf(orderId)).filter((t) => t === 'order/confirmed')).toHaveLength(1);
});

test('given a submit whose step failed and was given up on, when a later event of the order arrives, then the submit runs first and nothing stays reserved', async () => {
  const a = `s-${randomUUID().slice(0, 6)}`;
  const orderId = await submittedOrder({ [a]: 2 }, { [a]: 5 });
  const submitted = await batchOf(orderId);
  // Every reservation fails: the batch is dead-lettered, the stream moves on.
  expect(
    (await workflows((type) => type === 'inventory/reserve').handle(submitted)).batchItemFailures,
  ).toHaveLength(1);
  await on.execute(ALICE, 'order/cancel', orderId);
  const [cancelled] = (
    await on.store.load(orderId, { afterVersion: submitted.Records.length })
  ).map((e) => streamRecord(e));

  // Only the cancel is delivered: the submit, above the process's checkpoint, runs before it.
  const healthy = workflows();
  expect(await healthy.handle(streamEvent([cancelled!]))).toEqual({ batchItemFailures: [] });
  expect(await typesOf(a)).toEqual([
    'inventory/received',
    'inventory/reserved',
    'inventory/released',
  ]);
  expect(await healthy.recordOf(orderId)).toMatchObject({
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
  expect(await failing.recordOf(orderId)).toBeUndefined();

  const stuck = workflows((type) => type === 'order/confirm');
  expect((await stuck.handle(batch)).batchItemFailures).toHaveLength(1);
  expect(stuck.timers.map((t) => t.id)).toEqual([early!.id]);
  await workflows().handle({ processTimer: stuck.timers[0]! });
  expect((await on.store.load(orderId)).at(-1)).toMatchObject({
    type: 'order/rejected',
    payload: { reason: 'timed-out' },
  });
});
