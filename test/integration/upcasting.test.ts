/**
 * Event upcasting on DynamoDB Local: an order whose events were stored by older code
 * (`order/lineAdded` with `unitPrice`, schema version 1, no `schemaVersion` attribute) is read
 * right by every path: the command load (both profiles), the stream projector and its gap
 * healing, `/events`, `/history`, and the client. The stored items are never rewritten.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createApiClient } from '../../client/api';
import { confirmAnswer } from '../../client/state';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { stackHandlers, type StackHandlers } from '../support/handlers';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let decoupled: StackHandlers['decoupled'];
let coupled: StackHandlers['coupled'];
let query: StackHandlers['query'];
let project: StackHandlers['project'];
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  ({ decoupled, coupled, query, project } = stackHandlers(tables.env));
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

/** The order's view row as the projector stored it (`order@v1#<id>`). */
const storedView = async (id: string) => (await rows.get(storedKey(orderViewProjection, id)))?.view;

let n = 0;
const newId = () => `up-${process.pid}-${n++}`;

/** An item as code before schema versions wrote it: no `schemaVersion`, `unitPrice` on lines. */
const oldItem = (aggregateId: string, version: number, type: string, payload: object) => ({
  aggregateId,
  version,
  aggregateType: 'order',
  type,
  payload,
  eventId: `${aggregateId}-e${version}`,
  occurredAt: `2025-06-01T00:00:0${version}.000Z`,
  commandId: `${aggregateId}-c${version}`,
  commandHash: 'h',
  correlationId: 'old',
  causationId: `${aggregateId}-c${version}`,
});

/** Created + two old-shape lines: a x2 at 1250, b x1 at 999 (total 3499). */
const oldOrder = (id: string) => [
  oldItem(id, 1, 'order/created', { customerId: 'c-old', currency: 'EUR' }),
  oldItem(id, 2, 'order/lineAdded', { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 1250 }),
  {
    ...oldItem(id, 3, 'order/lineAdded', { lineId: 'b', sku: 'B', quantity: 1, unitPrice: 999 }),
    schemaVersion: 1,
  },
];

const putOld = async (id: string) => {
  const items = oldOrder(id);
  for (const item of items) {
    await tables.client.send(
      new PutItemCommand({ TableName: tables.eventTable, Item: marshall(item) as never }),
    );
  }
  return items;
};

const rawItem = async (id: string, version: number) =>
  unmarshall(
    (
      await tables.client.send(
        new GetItemCommand({
          TableName: tables.eventTable,
          Key: marshall({ aggregateId: id, version }) as never,
          ConsistentRead: true,
        }),
      )
    ).Item!,
  );

const lines = [
  { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 1250, amount: 2500 },
  { lineId: 'b', sku: 'B', quantity: 1, unitPrice: 999, amount: 999 },
];

/** A GET route of the orders collection (`route`: its path after `/{collection}`). */
const get = (route: '/{id}/events' | '/{id}/history', id: string, q?: Record<string, string>) =>
  query(
    httpEvent({
      routeKey: `GET /{collection}${route}`,
      pathParameters: { collection: 'orders', id },
      query: q,
    }),
  );

test('/events answers the current shape and schema version; the stored items are unchanged', async () => {
  const id = newId();
  const items = await putOld(id);
  const result = await get('/{id}/events', id);
  expect(result.statusCode).toBe(200);
  const { events } = bodyOf<{ events: { payload: object; schemaVersion: number }[] }>(result);
  expect(events.map((e) => [e.schemaVersion, e.payload])).toEqual([
    [1, { customerId: 'c-old', currency: 'EUR' }],
    [2, { lineId: 'a', sku: 'A', quantity: 2, unitPriceMinor: 1250 }],
    [2, { lineId: 'b', sku: 'B', quantity: 1, unitPriceMinor: 999 }],
  ]);
  expect(await rawItem(id, 2)).toEqual(items[1]);
  expect(await rawItem(id, 3)).toEqual(items[2]);
});

test('/history folds old events into the right lines and total', async () => {
  const id = newId();
  await putOld(id);
  const result = await get('/{id}/history', id, { version: '3' });
  expect(result.statusCode).toBe(200);
  expect(bodyOf<{ state: OrderView }>(result).state).toMatchObject({ lines, total: 3499 });
});

test('command load, decoupled: the old lines are known (rules see them), new events carry the current version', async () => {
  const id = newId();
  await putOld(id);
  const duplicate = await decoupled(
    command({
      type: 'order/addLine',
      aggregateId: id,
      payload: { lineId: 'a', sku: 'A', quantity: 1, unitPrice: 1 },
    }),
  );
  expect(bodyOf(duplicate)).toMatchObject({ error: { details: { rule: 'DUPLICATE_LINE_ID' } } });
  const added = await decoupled(
    command({
      type: 'order/addLine',
      aggregateId: id,
      payload: { lineId: 'c', sku: 'C', quantity: 3, unitPrice: 100 },
    }),
  );
  expect(added.statusCode).toBe(202);
  expect(await rawItem(id, 4)).toMatchObject({
    schemaVersion: 2,
    payload: { lineId: 'c', sku: 'C', quantity: 3, unitPriceMinor: 100 },
  });
  // A history mixing both versions folds right.
  const history = await get('/{id}/history', id, { version: '4' });
  expect(bodyOf<{ state: OrderView }>(history).state.total).toBe(3799);
});

test('command load, coupled: the answer row is folded from the old events', async () => {
  const id = newId();
  await putOld(id);
  const result = await coupled(
    command({
      type: 'order/changeQuantity',
      aggregateId: id,
      payload: { lineId: 'a', quantity: 3 },
    }),
  );
  expect(result.statusCode).toBe(200);
  expect(bodyOf<{ order: OrderView }>(result).order).toMatchObject({
    lines: [{ ...lines[0], quantity: 3, amount: 3750 }, lines[1]],
    total: 4749,
  });
});

test('stream projector: old-shape stream records are projected right', async () => {
  const id = newId();
  const items = await putOld(id);
  const result = await project(streamEvent(items.map((item) => streamRecord(item))));
  expect(result.batchItemFailures).toEqual([]);
  expect(await storedView(id)).toMatchObject({ lines, total: 3499, version: 3 });
});

test('stream projector gap healing: old events read back from the table are upcast', async () => {
  const id = newId();
  const items = await putOld(id);
  // Only version 3 is delivered: versions 1 and 2 come from the event table.
  const result = await project(streamEvent([streamRecord(items[2]!)]));
  expect(result.batchItemFailures).toEqual([]);
  expect(await storedView(id)).toMatchObject({ lines, total: 3499, version: 3 });
});

/** `fetch` served by the handlers in this process (the same handlers the cloud runs). */
const handlerFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const events = /^\/orders\/([^/]+)\/events$/.exec(url.pathname);
  const result =
    init?.method === 'POST'
      ? await decoupled(command(JSON.parse(String(init.body)) as Record<string, unknown>))
      : await get(
          '/{id}/events',
          decodeURIComponent(events![1]!),
          Object.fromEntries(url.searchParams),
        );
  return new Response(result.body, {
    status: result.statusCode,
    headers: result.headers as Record<string, string>,
  });
};

test('client: events from /events fold into the right order through the shared reducer', async () => {
  const id = newId();
  await putOld(id);
  const api = createApiClient({ baseUrl: 'http://handlers', fetch: handlerFetch });
  const page = await api.getEvents('orders', id);
  const confirmed = confirmAnswer(undefined, {
    commandId: 'x',
    aggregateId: id,
    version: 3,
    events: page.events,
    replayed: false,
  });
  expect(confirmed?.view).toMatchObject({ lines, total: 3499 });
});

test('client: an old-shape event in a decoupled answer (an older server) is upcast before folding', async () => {
  const id = newId();
  const [created, line] = oldOrder(id);
  // What a server deployed before this change answers: events as it wrote them.
  const oldServer: typeof fetch = async () =>
    new Response(JSON.stringify({ aggregateId: id, version: 2, events: [created, line] }), {
      status: 202,
      headers: { 'content-type': 'application/json' },
    });
  const api = createApiClient({ baseUrl: 'http://old', fetch: oldServer });
  const answer = await api.sendCommand({
    type: 'order/create',
    aggregateId: id,
    payload: { customerId: 'c-old', currency: 'EUR' },
    commandId: 'x',
  });
  expect(answer.events[1]!.payload).toEqual({
    lineId: 'a',
    sku: 'A',
    quantity: 2,
    unitPriceMinor: 1250,
  });
  // The reducer slice folds raw answers through the codec too (an answer kept in the outbox).
  const confirmed = confirmAnswer(undefined, {
    commandId: 'x',
    aggregateId: id,
    version: 2,
    events: [created!, line!],
    replayed: false,
  });
  expect(confirmed?.view).toMatchObject({ lines: [lines[0]], total: 2500 });
});
