/**
 * Who reads what (issue 20), through the query routes of both stacks on DynamoDB Local, called as
 * API Gateway calls them once its JWT authorizer has verified the caller
 * (`requestContext.authorizer.jwt.claims`). A row the caller may not read answers exactly as a
 * missing one (404: its existence is not revealed); a list the caller may not ask for is 403
 * LIST_NOT_ALLOWED; no verified identity at all is 401. Users: alice and bob (customers),
 * support, admin. Data: written by the decoupled command function, projected by the stream
 * projector.
 */
import type { Principal } from '../../lambdas/core/identity/principal';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import type { HttpResult } from '../../lambdas/handlers/http';
import { createTestTables, type TestTables } from '../support/dynamo';
import { type StackHandlers, stackHandlers } from '../support/handlers';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { streamEvent, streamRecord } from '../support/stream-events';

const alice: Principal = { subject: 'alice', roles: [] };
const bob: Principal = { subject: 'bob', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };

let tables: TestTables;
let handlers: StackHandlers;
const alicesOrder = `qp-${process.pid}-alice`;
const bobsOrder = `qp-${process.pid}-bob`;
const missingOrder = `qp-${process.pid}-none`;

/** Sends a command as `principal` through the decoupled command function; it must be accepted. */
const send = async (principal: Principal, body: Record<string, unknown>) => {
  const result = await handlers.decoupled(command(body, {}, principal));
  expect({ body, status: result.statusCode }).toEqual({ body, status: 202 });
};

beforeAll(async () => {
  tables = await createTestTables();
  handlers = stackHandlers(tables.env);
  for (const [principal, aggregateId] of [
    [alice, alicesOrder],
    [bob, bobsOrder],
  ] as const) {
    // No customerId: the order is the caller's.
    await send(principal, { type: 'order/create', aggregateId, payload: { currency: 'EUR' } });
    await send(principal, {
      type: 'order/addLine',
      aggregateId,
      payload: { lineId: 'a', sku: 'SKU-QP', quantity: 2, unitPrice: 100 },
    });
  }
  await send(alice, {
    type: 'order/removeLine',
    aggregateId: alicesOrder,
    payload: { lineId: 'a' },
  });
  // The stream projector writes the views and the read models.
  const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  const events = [...(await store.load(alicesOrder)), ...(await store.load(bobsOrder))];
  const { batchItemFailures } = await handlers.project(
    streamEvent(events.map((e) => streamRecord(e))),
  );
  expect(batchItemFailures).toEqual([]);
});
afterAll(() => tables.drop());

type Stack = 'decoupled' | 'coupled';
const STACKS: Stack[] = ['decoupled', 'coupled'];

/** A GET as `principal` (null: no authorizer context) on one stack's query routes. */
const get = (
  stack: Stack,
  principal: Principal | null,
  routeKey: string,
  pathParameters: Record<string, string> = {},
  query?: Record<string, string>,
): Promise<HttpResult> => {
  const event = httpEvent({ routeKey, pathParameters, query, principal });
  return stack === 'decoupled' ? handlers.query(event) : handlers.coupled(event);
};
const getOrder = (
  stack: Stack,
  principal: Principal | null,
  id: string,
  query?: Record<string, string>,
) => get(stack, principal, 'GET /{collection}/{id}', { collection: 'orders', id }, query);
const listOrders = (stack: Stack, principal: Principal, query: Record<string, string>) =>
  get(stack, principal, 'GET /{collection}', { collection: 'orders' }, query);

/** The answer with the id it names replaced: two answers about two ids, compared. */
const withoutId = (result: HttpResult, id: string) => ({
  status: result.statusCode,
  body: JSON.parse(result.body.replaceAll(id, '<id>')) as unknown,
});

describe.each(STACKS)('%s: GET /orders/{id}', (stack) => {
  test("given alice's order, when bob reads it, then 404 with the very body of an order that does not exist", async () => {
    const refused = await getOrder(stack, bob, alicesOrder);
    expect(refused.statusCode).toBe(404);
    expect(withoutId(refused, alicesOrder)).toEqual(
      withoutId(await getOrder(stack, bob, missingOrder), missingOrder),
    );
  });

  test.each([
    ['alice (its customer)', alice],
    ['support', support],
    ['an admin', admin],
  ] as const)(
    "given alice's order, when %s reads it, then 200 with the order",
    async (_who, principal) => {
      const result = await getOrder(stack, principal, alicesOrder);
      expect(result.statusCode).toBe(200);
      expect(bodyOf(result)).toMatchObject({ id: alicesOrder, customerId: 'alice' });
    },
  );

  test("given alice's order at version 3, when bob waits for version 9, then 404 at once, never the wait's 503", async () => {
    const result = await getOrder(stack, bob, alicesOrder, { minVersion: '9' });
    expect(result.statusCode).toBe(404);
  });

  test('given no verified identity, when anyone reads an order, then 401 UNAUTHENTICATED', async () => {
    const result = await getOrder(stack, null, alicesOrder);
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });
});

describe.each(STACKS)('%s: GET /orders?...', (stack) => {
  test('given orders of alice and bob, when alice lists her own, then 200 with hers only', async () => {
    const result = await listOrders(stack, alice, { customerId: 'alice' });
    expect(result.statusCode).toBe(200);
    const { items } = bodyOf<{ items: { id: string; customerId: string }[] }>(result);
    expect(items.map((o) => o.id)).toEqual([alicesOrder]);
  });

  test("given bob's orders, when alice lists them, then 403 FORBIDDEN LIST_NOT_ALLOWED", async () => {
    const result = await listOrders(stack, alice, { customerId: 'bob' });
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'FORBIDDEN', details: { rule: 'LIST_NOT_ALLOWED', param: 'customerId' } },
    });
  });

  test('given orders of every customer, when alice lists them by status, then 403 FORBIDDEN LIST_NOT_ALLOWED', async () => {
    const result = await listOrders(stack, alice, { status: 'draft' });
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'FORBIDDEN', details: { rule: 'LIST_NOT_ALLOWED', param: 'status' } },
    });
  });

  test('given orders of alice and bob, when support lists them by status, then 200 with both', async () => {
    const result = await listOrders(stack, support, { status: 'draft', limit: '100' });
    expect(result.statusCode).toBe(200);
    const { items } = bodyOf<{ items: { id: string }[] }>(result);
    expect(items.map((o) => o.id).sort()).toEqual([alicesOrder, bobsOrder].sort());
  });

  test("given bob's orders, when support lists them, then 200 with his", async () => {
    const result = await listOrders(stack, support, { customerId: 'bob' });
    expect(bodyOf<{ items: { id: string }[] }>(result).items.map((o) => o.id)).toEqual([bobsOrder]);
  });
});

describe.each(STACKS)("%s: alice's order's /events and /history", (stack) => {
  // Whatever the query, valid or not: an answer that differed would tell the order exists.
  test.each([
    ['GET /{collection}/{id}/events', {}],
    ['GET /{collection}/{id}/events', { limit: '2' }],
    ['GET /{collection}/{id}/events', { limit: '0' }],
    ['GET /{collection}/{id}/events', { cursor: '2' }],
    ['GET /{collection}/{id}/history', { version: '1' }],
    ['GET /{collection}/{id}/history', { version: '99' }],
    ['GET /{collection}/{id}/history', {}],
  ])(
    "given alice's order, when bob reads %s with %j, then the very answer of an order that does not exist",
    async (routeKey, query: Record<string, string>) => {
      const read = (id: string) => get(stack, bob, routeKey, { collection: 'orders', id }, query);
      expect(withoutId(await read(alicesOrder), alicesOrder)).toEqual(
        withoutId(await read(missingOrder), missingOrder),
      );
    },
  );

  test("given alice's order, when bob reads its /events, then 404", async () => {
    const path = { collection: 'orders', id: alicesOrder };
    expect((await get(stack, bob, 'GET /{collection}/{id}/events', path)).statusCode).toBe(404);
  });

  test.each([
    ['alice', alice],
    ['support', support],
  ] as const)(
    "given alice's order, when %s reads its /events and /history, then 200",
    async (_who, principal) => {
      const path = { collection: 'orders', id: alicesOrder };
      const events = await get(stack, principal, 'GET /{collection}/{id}/events', path);
      expect(events.statusCode).toBe(200);
      // The audit trail: each event names who sent its command.
      expect(bodyOf<{ events: { actor: string }[] }>(events).events.map((e) => e.actor)).toEqual([
        'alice',
        'alice',
        'alice',
      ]);
      const history = await get(stack, principal, 'GET /{collection}/{id}/history', path, {
        version: '2',
      });
      expect(history.statusCode).toBe(200);
      expect(bodyOf(history)).toMatchObject({ version: 2, state: { customerId: 'alice' } });
    },
  );
});

describe.each(STACKS)('%s: GET /read-models/{name}/{key}', (stack) => {
  const readModel = (principal: Principal, name: string, key: string) =>
    get(stack, principal, 'GET /read-models/{name}/{key}', { name, key });

  test("given alice's customer summary, when bob reads it, then 404 with the very body of a summary that does not exist", async () => {
    const refused = await readModel(bob, 'customer-summary', 'alice');
    expect(refused.statusCode).toBe(404);
    expect(withoutId(refused, 'alice')).toEqual(
      withoutId(await readModel(bob, 'customer-summary', 'nobody'), 'nobody'),
    );
  });

  test.each([
    ['alice', alice],
    ['support', support],
  ] as const)(
    "given alice's customer summary, when %s reads it, then 200",
    async (_who, principal) => {
      const result = await readModel(principal, 'customer-summary', 'alice');
      expect(result.statusCode).toBe(200);
      expect(bodyOf(result)).toMatchObject({ key: 'alice', row: { customerId: 'alice' } });
    },
  );

  test('given lines removed from the orders of customers, when alice reads their count, then 404 (staff only)', async () => {
    const result = await readModel(alice, 'removed-lines', 'SKU-QP');
    expect(result.statusCode).toBe(404);
  });

  test('given lines removed from the orders of customers, when support reads their count, then 200', async () => {
    const result = await readModel(support, 'removed-lines', 'SKU-QP');
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ row: { sku: 'SKU-QP', timesRemoved: 1 } });
  });
});
