/**
 * The order's view (`order@v1#<id>` in the projections table) written by the projector Lambda
 * handler from stream events shaped as Lambda delivers them, on DynamoDB Local: duplicates,
 * out-of-order records, gap healing, unreadable records, poison events, foreign events, a
 * deleted order. What every declared projection shares (shuffled, bisected and concurrent
 * batches) is in row-projector.test.ts.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { silentLog } from '../../lambdas/core/shared/log';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { createProjectorHandler } from '../../lambdas/handlers/projector';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { stackHandlers, type StackHandlers } from '../support/handlers';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let handlers: StackHandlers;
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  handlers = stackHandlers(tables.env);
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

const project = (...args: Parameters<StackHandlers['project']>) => handlers.project(...args);

/** The stored item of an order's view: `{ key, view, applied, rev, ...list slots }`. */
const stored = (id: string) => rows.get(storedKey(orderViewProjection, id));

/** The order's view as `GET /orders/{id}` answers it (the query function). */
const getOrder = (id: string) =>
  handlers.query(
    httpEvent({ routeKey: 'GET /{collection}/{id}', pathParameters: { collection: 'orders', id } }),
  );

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
    const result = await handlers.decoupled(
      command({ ...c, aggregateId: id }, { 'x-correlation-id': `corr-${id}` }),
    );
    expect(result.statusCode).toBe(202);
  }
  return store.load(id);
};

/** The stored item of the order after its four events: the view, and version 4 applied. */
const expectedItem = (events: StoredEvent[], version = 4) => {
  const id = events[0]!.aggregateId;
  return {
    key: storedKey(orderViewProjection, id),
    view: { id, status: 'draft', lineCount: 2, total: 5 * 300 + 1000, version },
    applied: { [id]: version },
  };
};

test('applies a batch in order and reports no failure', async () => {
  const events = await orderWithHistory();
  const result = await project(streamEvent(events.map((e) => streamRecord(e))));
  expect(result.batchItemFailures).toEqual([]);
  expect(await stored(events[0]!.aggregateId)).toMatchObject(expectedItem(events));
  expect(bodyOf(await getOrder(events[0]!.aggregateId))).toEqual(
    (await stored(events[0]!.aggregateId))!.view,
  );
});

test('the same batch delivered twice writes nothing the second time', async () => {
  const events = await orderWithHistory();
  const batch = streamEvent(events.map((e) => streamRecord(e)));
  await project(batch);
  const once = await stored(events[0]!.aggregateId);
  const again = await project(batch);
  expect(again.batchItemFailures).toEqual([]);
  // Same revision: the item was not even rewritten.
  expect(await stored(events[0]!.aggregateId)).toEqual(once);
});

test("one aggregate's records out of order end in the in-order state", async () => {
  const events = await orderWithHistory();
  const [e1, e2, e3, e4] = events.map((e) => streamRecord(e));
  await project(streamEvent([e3!, e1!, e4!, e2!]));
  expect(await stored(events[0]!.aggregateId)).toMatchObject(expectedItem(events));
});

test('a gap is healed from the event table (later records delivered first)', async () => {
  const events = await orderWithHistory();
  // Only version 4 arrives; 1..3 are read from the event table.
  const result = await project(streamEvent([streamRecord(events[3]!)]));
  expect(result.batchItemFailures).toEqual([]);
  expect(await stored(events[0]!.aggregateId)).toMatchObject(expectedItem(events));
  // The late records, when they come, are duplicates and change nothing.
  const before = await stored(events[0]!.aggregateId);
  await project(streamEvent(events.slice(0, 3).map((e) => streamRecord(e))));
  expect(await stored(events[0]!.aggregateId)).toEqual(before);
});

test('an unreadable record is reported alone and the rest are applied', async () => {
  const good = await orderWithHistory();
  const other = await orderWithHistory();
  const poison = streamRecord(
    { ...good[0]!, aggregateId: 'poison-1', version: 'not-a-number' },
    '777',
  );
  const { result, lines } = await captureLogs(() =>
    project(
      streamEvent([
        streamRecord(good[0]!),
        poison,
        ...good.slice(1).map((e) => streamRecord(e)),
        ...other.map((e) => streamRecord(e)),
      ]),
    ),
  );
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '777' }]);
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 'ERROR',
      message: 'Unreadable stream record',
      recordId: '777',
    }),
  );
  expect(await stored(good[0]!.aggregateId)).toMatchObject(expectedItem(good));
  expect(await stored(other[0]!.aggregateId)).toMatchObject(expectedItem(other));
});

test('a malformed image of a known order fails alone; the order is completed from the event table', async () => {
  const events = await orderWithHistory();
  const other = await orderWithHistory();
  // A lineAdded whose payload fails the event codec.
  const malformed = streamRecord({ ...events[1]!, payload: null as unknown as object }, '900');
  const after = events.slice(2).map((e, i) => streamRecord(e, String(901 + i)));
  const result = await project(
    streamEvent([
      streamRecord(events[0]!, '899'),
      malformed,
      ...after,
      ...other.map((e) => streamRecord(e)),
    ]),
  );
  // The malformed image fails validation; the later records of that order are still applied,
  // because the projector reads the order's events from the event table, where version 2 is
  // intact.
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '900' }]);
  expect(await stored(other[0]!.aggregateId)).toMatchObject(expectedItem(other));
  expect(await stored(events[0]!.aggregateId)).toMatchObject(expectedItem(events));
});

test('an event the reducer cannot apply fails with the later records of its aggregate only', async () => {
  const events = await orderWithHistory();
  const other = await orderWithHistory();
  const victim = events[0]!.aggregateId;
  const logger = testLogger('projector');
  const projector = createRowProjector({
    projections: [
      {
        ...orderViewProjection,
        reducer: (row, event, before) => {
          if (event.meta.aggregateId === victim && event.meta.version === 3)
            throw new Error('cannot apply');
          return orderViewProjection.reducer(row, event, before);
        },
      },
    ],
    rows,
    events: store,
    log: silentLog,
  });
  const handler = createProjectorHandler({
    project: projector,
    logger,
    aggregateTypes: AGGREGATES.map((a) => a.type),
  });
  const records = events.map((e, i) => streamRecord(e, String(500 + i)));
  const result = await handler(streamEvent([...records, ...other.map((e) => streamRecord(e))]));
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '502' }, { itemIdentifier: '503' }]);
  // Applied up to the failure.
  expect(await stored(victim)).toMatchObject({ view: { version: 2 }, applied: { [victim]: 2 } });
  expect(await stored(other[0]!.aggregateId)).toMatchObject(expectedItem(other));
});

test('a deleted order keeps its row with status deleted: 404, in no list, and replays cannot revive it', async () => {
  const events = await orderWithHistory([{ type: 'order/delete', payload: {} }]);
  const id = events[0]!.aggregateId;
  await project(streamEvent(events.map((e) => streamRecord(e))));
  const item = await stored(id);
  expect(item).toMatchObject({
    view: { id, status: 'deleted', version: 5, updatedAt: events[4]!.occurredAt },
    applied: { [id]: 5 },
  });
  // No list slot attribute: the row has left both lists.
  expect(Object.keys(item!).sort()).toEqual(['applied', 'key', 'rev', 'view']);
  expect(bodyOf(await getOrder(id))).toMatchObject({
    error: { code: 'NOT_FOUND', message: `order ${id} not found` },
  });
  await project(streamEvent(events.slice(0, 3).map((e) => streamRecord(e))));
  expect(await stored(id)).toEqual(item);
});

test('every projection log line carries the correlation id of its command', async () => {
  const events = await orderWithHistory();
  const id = events[0]!.aggregateId;
  const { lines } = await captureLogs(() =>
    project(streamEvent(events.map((e) => streamRecord(e)))),
  );
  const projected = lines.filter(
    (l) =>
      l.message === 'Applied event to a declared read model' &&
      l.projection === orderViewProjection.name &&
      l.aggregateId === id,
  );
  expect(projected.map((l) => l.version)).toEqual([1, 2, 3, 4]);
  for (const line of projected) expect(line.correlationId).toBe(`corr-${id}`);
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

  // Neither shape is the order's to validate or apply: the record is acknowledged.
  test.each(['invoice', 'order'])(
    'a foreign event (aggregateType %s, type invoice/paid) delivered alone fails nothing and changes no row',
    async (aggregateType) => {
      const events = await orderWithHistory();
      const id = events[0]!.aggregateId;
      await project(streamEvent(events.map((e) => streamRecord(e))));
      const before = await stored(id);
      const v5 = foreign(events[0]!, 5, aggregateType);
      await putRaw({ ...v5 });
      const result = await project(streamEvent([streamRecord(v5)]));
      expect(result.batchItemFailures).toEqual([]);
      expect(await stored(id)).toEqual(before);
      // Version 5 exists but changes nothing the view shows: `?minVersion=5` is met by the row
      // at 4 (before, it waited for a checkpoint only the view's own events move, then 503).
      const read = await handlers.query(
        httpEvent({
          routeKey: 'GET /{collection}/{id}',
          pathParameters: { collection: 'orders', id },
          query: { minVersion: '5' },
        }),
      );
      expect({ status: read.statusCode, version: bodyOf(read).version }).toEqual({
        status: 200,
        version: 4,
      });
    },
  );

  test.each(['invoice', 'order'])(
    'gap healing folds over a foreign event (aggregateType %s), counting it as a version',
    async (aggregateType) => {
      const events = await orderWithHistory();
      const id = events[0]!.aggregateId;
      await putRaw({ ...foreign(events[0]!, 5, aggregateType) });
      const submitted = await handlers.decoupled(
        command({ type: 'order/submit', aggregateId: id }),
      );
      expect(submitted.statusCode).toBe(202);
      const [v6] = await store.load(id, { afterVersion: 5 });
      expect(v6).toMatchObject({ version: 6, type: 'order/submitted' });
      // Only version 6 is delivered; 1..5 (with the foreign 5) are read from the table.
      const result = await project(streamEvent([streamRecord(v6!)]));
      expect(result.batchItemFailures).toEqual([]);
      expect(await stored(id)).toMatchObject({
        view: { version: 6, status: 'submitted' },
        applied: { [id]: 6 },
      });
    },
  );

  test('a partition of another aggregate type is not the order view’s concern', async () => {
    const id = `invoice-${process.pid}-${n++}`;
    const [first] = await orderWithHistory();
    const invoice = [1, 2].map((v) => ({ ...foreign(first!, v), aggregateId: id }));
    for (const e of invoice) await putRaw({ ...e, payload: 'not a map' });
    // Not even validated as an order event (m7c: the type filter comes first).
    const result = await project(streamEvent(invoice.map((e) => streamRecord(e))));
    expect(result.batchItemFailures).toEqual([]);
    expect(await stored(id)).toBeUndefined();
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
    // Before the fix: the row was saved at version 4 without version 2. Version 1 alone makes
    // a row (its record was not delivered, so nothing is retried for it).
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '4004' }]);
    expect(await stored(id)).toMatchObject({ view: { version: 1 }, applied: { [id]: 1 } });
    expect(await stored(other[0]!.aggregateId)).toMatchObject(expectedItem(other));
  });

  test('a corrupt event fails its record and the later ones of its order only', async () => {
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
    expect(await stored(id)).toMatchObject({ view: { version: 2 }, applied: { [id]: 2 } });
    expect(await stored(other[0]!.aggregateId)).toMatchObject(expectedItem(other));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'Projection failed',
        aggregateId: id,
        failedVersion: 3,
      }),
    );
  });
});
