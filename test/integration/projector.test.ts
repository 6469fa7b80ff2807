/**
 * The projector Lambda handler with stream events shaped as Lambda delivers them, on
 * DynamoDB Local: duplicates, out-of-order records, gap healing, poison records, tombstones.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbReadModel } from '../../lambdas/core/projections/dynamodb-read-model';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { silentLog } from '../../lambdas/core/shared/log';
import { createProjector } from '../../lambdas/core/projections/projector';
import { orderProjection, type OrderView } from '../../lambdas/domain/order';
import { createProjectorHandler } from '../../lambdas/handlers/projector';
import { commandHandlerFromEnv, projectorHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { command } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let sendCommand: ReturnType<typeof commandHandlerFromEnv>;
let project: ReturnType<typeof projectorHandlerFromEnv>;
let store: DynamoDbEventStore;
let rows: DynamoDbReadModel<OrderView>;
const logger = testLogger('projector');

beforeAll(async () => {
  tables = await createTestTables();
  sendCommand = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  project = projectorHandlerFromEnv(tables.env, { logger });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbReadModel<OrderView>(tables.doc, tables.readModelTable);
});
afterAll(() => tables.drop());

let n = 0;
/** Runs a small order lifecycle through the command handler; returns its stored events. */
const orderWithHistory = async (extra: Record<string, unknown>[] = []): Promise<StoredEvent[]> => {
  const id = `p-order-${process.pid}-${n++}`;
  const commands = [
    { type: 'order/create', payload: { customerId: 'c-1', currency: 'EUR' } },
    { type: 'order/addLine', payload: { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 300 } },
    { type: 'order/addLine', payload: { lineId: 'b', sku: 'B', quantity: 1, unitPrice: 1000 } },
    { type: 'order/changeQuantity', payload: { lineId: 'a', quantity: 5 } },
    ...extra,
  ];
  for (const c of commands) {
    const result = await sendCommand(
      command({ ...c, aggregateId: id }, { 'x-correlation-id': `corr-${id}` }),
    );
    expect(result.statusCode).toBe(202);
  }
  return store.load(id);
};

const expectedRow = (events: StoredEvent[]) => ({
  id: events[0]!.aggregateId,
  status: 'draft',
  lineCount: 2,
  total: 5 * 300 + 1000,
  version: 4,
});

test('applies a batch in order and reports no failure', async () => {
  const events = await orderWithHistory();
  const result = await project(streamEvent(events.map((e) => streamRecord(e))));
  expect(result.batchItemFailures).toEqual([]);
  expect(await rows.get(events[0]!.aggregateId)).toMatchObject(expectedRow(events));
});

test('the same batch delivered twice leaves the read model identical', async () => {
  const events = await orderWithHistory();
  const batch = streamEvent(events.map((e) => streamRecord(e)));
  await project(batch);
  const once = await rows.get(events[0]!.aggregateId);
  const again = await project(batch);
  expect(again.batchItemFailures).toEqual([]);
  expect(await rows.get(events[0]!.aggregateId)).toEqual(once);
});

test("one aggregate's records out of order end in the in-order state", async () => {
  const events = await orderWithHistory();
  const [e1, e2, e3, e4] = events.map((e) => streamRecord(e));
  await project(streamEvent([e3!, e1!, e4!, e2!]));
  expect(await rows.get(events[0]!.aggregateId)).toMatchObject(expectedRow(events));
});

test('a gap is healed from the event table (later records delivered first)', async () => {
  const events = await orderWithHistory();
  // Only version 4 arrives; 1..3 are read from the event table.
  const result = await project(streamEvent([streamRecord(events[3]!)]));
  expect(result.batchItemFailures).toEqual([]);
  expect(await rows.get(events[0]!.aggregateId)).toMatchObject(expectedRow(events));
  // The late records, when they come, are duplicates and change nothing.
  const before = await rows.get(events[0]!.aggregateId);
  await project(streamEvent(events.slice(0, 3).map((e) => streamRecord(e))));
  expect(await rows.get(events[0]!.aggregateId)).toEqual(before);
});

test('a poison record is reported alone and the rest are applied', async () => {
  const good = await orderWithHistory();
  const other = await orderWithHistory();
  const poison = streamRecord(
    { ...good[0]!, aggregateId: 'poison-1', version: 'not-a-number' },
    '777',
  );
  const result = await project(
    streamEvent([
      streamRecord(good[0]!),
      poison,
      ...good.slice(1).map((e) => streamRecord(e)),
      ...other.map((e) => streamRecord(e)),
    ]),
  );
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '777' }]);
  expect(await rows.get(good[0]!.aggregateId)).toMatchObject(expectedRow(good));
  expect(await rows.get(other[0]!.aggregateId)).toMatchObject(expectedRow(other));
});

test('a malformed image of a known order fails alone; the order is completed from the event table', async () => {
  const events = await orderWithHistory();
  const other = await orderWithHistory();
  // A lineAdded whose payload makes the reducer throw (lines must be a list to spread).
  const broken = { ...events[1]!, payload: { lineId: 'x', sku: 'X', quantity: 1, unitPrice: 1 } };
  const reducerBomb = streamRecord(
    { ...broken, type: 'order/lineAdded', payload: null as unknown as object },
    '900',
  );
  const after = events.slice(2).map((e, i) => streamRecord(e, String(901 + i)));
  const result = await project(
    streamEvent([
      streamRecord(events[0]!, '899'),
      reducerBomb,
      ...after,
      ...other.map((e) => streamRecord(e)),
    ]),
  );
  // The malformed image fails validation; the later records of that order can still be
  // applied because gap healing reads version 2 from the event table, where it is intact.
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '900' }]);
  expect(await rows.get(other[0]!.aggregateId)).toMatchObject(expectedRow(other));
  expect(await rows.get(events[0]!.aggregateId)).toMatchObject(expectedRow(events));
});

test('an event the reducer cannot apply fails with the later records of its aggregate only', async () => {
  const events = await orderWithHistory();
  const other = await orderWithHistory();
  const victim = events[0]!.aggregateId;
  const projector = createProjector({
    projection: {
      ...orderProjection,
      reducer: (view, action) => {
        if (action.meta.aggregateId === victim && action.meta.version === 3)
          throw new Error('cannot apply');
        return orderProjection.reducer(view, action);
      },
    },
    rows,
    events: store,
    log: silentLog,
  });
  const handler = createProjectorHandler({ project: projector, logger, aggregateTypes: ['order'] });
  const records = events.map((e, i) => streamRecord(e, String(500 + i)));
  const result = await handler(streamEvent([...records, ...other.map((e) => streamRecord(e))]));
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '502' }, { itemIdentifier: '503' }]);
  expect(await rows.get(victim)).toMatchObject({ version: 2 }); // applied up to the failure
  expect(await rows.get(other[0]!.aggregateId)).toMatchObject(expectedRow(other));
});

test('a deleted order leaves a tombstone: gone from reads, and replays cannot revive it', async () => {
  const events = await orderWithHistory([{ type: 'order/delete', payload: {} }]);
  const id = events[0]!.aggregateId;
  await project(streamEvent(events.map((e) => streamRecord(e))));
  expect(await rows.get(id)).toEqual({
    id,
    version: 5,
    updatedAt: events[4]!.occurredAt,
    deleted: true,
  });
  await project(streamEvent(events.slice(0, 3).map((e) => streamRecord(e))));
  expect(await rows.get(id)).toMatchObject({ deleted: true, version: 5 });
});

test('every projection log line carries the correlation id of its command', async () => {
  const events = await orderWithHistory();
  const { lines } = await captureLogs(() =>
    project(streamEvent(events.map((e) => streamRecord(e)))),
  );
  const projected = lines.filter((l) => l.message === 'Projected event');
  expect(projected.map((l) => l.version)).toEqual([1, 2, 3, 4]);
  for (const line of projected) expect(line.correlationId).toBe(`corr-${events[0]!.aggregateId}`);
});

describe('what is really in the event table (issue 8: items 7 and 8, code-review m7)', () => {
  const putRaw = (item: Record<string, unknown>) =>
    tables.doc.send(new PutCommand({ TableName: tables.eventTable, Item: item }));
  const foreign = (of: StoredEvent, version: number, aggregateType = 'invoice'): StoredEvent => ({
    ...of,
    version,
    aggregateType,
    type: 'invoice/paid',
    payload: { amount: 1 },
    eventId: `foreign-${version}`,
  });

  // The second shape (an order item whose type is outside `order/`) stranded the row at 4.
  test.each(['invoice', 'order'])(
    'a foreign event (aggregateType %s, type invoice/paid) delivered alone advances the row to its version (minVersion can be met)',
    async (aggregateType) => {
      const events = await orderWithHistory();
      await project(streamEvent(events.map((e) => streamRecord(e))));
      const v5 = foreign(events[0]!, 5, aggregateType);
      await putRaw({ ...v5 });
      const { result, lines } = await captureLogs(() => project(streamEvent([streamRecord(v5)])));
      expect(result.batchItemFailures).toEqual([]);
      // Before the fix: ignored, the row stayed at 4 while the log is at 5.
      expect(await rows.get(v5.aggregateId)).toMatchObject({ ...expectedRow(events), version: 5 });
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          aggregateId: v5.aggregateId,
          version: 5,
          aggregateType,
          type: 'invoice/paid',
        }),
      );
    },
  );

  test.each(['invoice', 'order'])(
    'gap healing folds over a foreign event (aggregateType %s), counting it as a version',
    async (aggregateType) => {
      const events = await orderWithHistory();
      const id = events[0]!.aggregateId;
      await putRaw({ ...foreign(events[0]!, 5, aggregateType) });
      const submitted = await sendCommand(command({ type: 'order/submit', aggregateId: id }));
      expect(submitted.statusCode).toBe(202);
      const [v6] = await store.load(id, { afterVersion: 5 });
      expect(v6).toMatchObject({ version: 6, type: 'order/submitted' });
      // Only version 6 is delivered; 1..5 (with the foreign 5) are read from the table.
      const result = await project(streamEvent([streamRecord(v6!)]));
      expect(result.batchItemFailures).toEqual([]);
      expect(await rows.get(id)).toMatchObject({ version: 6, status: 'submitted' });
    },
  );

  test('a partition of another aggregate type is not the order projection’s concern', async () => {
    const id = `invoice-${process.pid}-${n++}`;
    const [first] = await orderWithHistory();
    const invoice = [1, 2].map((v) => ({ ...foreign(first!, v), aggregateId: id }));
    for (const e of invoice) await putRaw({ ...e, payload: 'not a map' });
    // Not even validated as an order event (m7c: the type filter comes first).
    const result = await project(streamEvent(invoice.map((e) => streamRecord(e))));
    expect(result.batchItemFailures).toEqual([]);
    expect(await rows.get(id)).toBeUndefined();
  });

  test('gap healing never folds across a hole: the records of that order fail, others apply', async () => {
    const events = await orderWithHistory();
    const other = await orderWithHistory();
    const id = events[0]!.aggregateId;
    await tables.doc.send(
      new DeleteCommand({ TableName: tables.eventTable, Key: { aggregateId: id, version: 2 } }),
    );
    const last = streamRecord(events[3]!, '4004');
    const result = await project(streamEvent([last, ...other.map((e) => streamRecord(e))]));
    // Before the fix: the row was saved at version 4 without version 2.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '4004' }]);
    expect(await rows.get(id)).toBeUndefined();
    expect(await rows.get(other[0]!.aggregateId)).toMatchObject(expectedRow(other));
  });

  test('a corrupt event fails its record and, through gap healing, the later ones of its order only', async () => {
    const events = await orderWithHistory();
    const other = await orderWithHistory();
    const id = events[0]!.aggregateId;
    const corrupt = {
      ...(marshall(events[2]!) as Record<string, never>),
      payload: { M: { lineId: { S: 'b' }, sku: { S: 'B' }, quantity: { N: '1e40' } } },
    };
    await tables.client.send(new PutItemCommand({ TableName: tables.eventTable, Item: corrupt }));
    const badRecord = streamRecord(events[2]!, '3003');
    badRecord.dynamodb!.NewImage = corrupt;
    const { result, lines } = await captureLogs(() =>
      project(
        streamEvent([
          streamRecord(events[0]!, '3001'),
          streamRecord(events[1]!, '3002'),
          badRecord,
          streamRecord(events[3]!, '3004'),
          ...other.map((e) => streamRecord(e)),
        ]),
      ),
    );
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: '3003' },
      { itemIdentifier: '3004' },
    ]);
    expect(await rows.get(id)).toMatchObject({ version: 2 });
    expect(await rows.get(other[0]!.aggregateId)).toMatchObject(expectedRow(other));
    expect(JSON.stringify(lines)).toContain(`Stored event 3 of aggregate ${id} is unreadable`);
  });
});
