/**
 * A second aggregate, the shopping list, through the handlers AWS runs, on DynamoDB Local:
 * its commands on both stacks, its declared read models fed by the stream projector (decoupled:
 * the one that also writes the order rows; coupled: the one of declared projections), and the
 * order's routes and table untouched by it. Before the framework fix its read models stayed
 * empty with no error, and the coupled stack stored and answered the list as an order.
 */
import { randomUUID } from 'node:crypto';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/aggregate';
import { DynamoDbEventStore } from '../../lambdas/core/dynamodb-event-store';
import { DynamoDbReadModel } from '../../lambdas/core/dynamodb-read-model';
import { toAction } from '../../lambdas/core/events';
import type { OrderView } from '../../lambdas/domain/order';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let handlers: {
  decoupled: ReturnType<typeof commandHandlerFromEnv>;
  coupled: ReturnType<typeof coupledHandlerFromEnv>;
};
let query: ReturnType<typeof queryHandlerFromEnv>;
let project: ReturnType<typeof projectorHandlerFromEnv>;
let store: DynamoDbEventStore;
let orderRows: DynamoDbReadModel<OrderView>;

beforeAll(async () => {
  tables = await createTestTables();
  handlers = {
    decoupled: commandHandlerFromEnv(tables.env, { logger: testLogger('command') }),
    coupled: coupledHandlerFromEnv(tables.env, { logger: testLogger('coupled') }),
  };
  query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  project = projectorHandlerFromEnv(tables.env, { logger: testLogger('projector') });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  orderRows = new DynamoDbReadModel<OrderView>(tables.doc, tables.readModelTable);
});
afterAll(() => tables.drop());

const get = (
  routeKey: string,
  pathParameters: Record<string, string>,
  q?: Record<string, string>,
) => query(httpEvent({ routeKey, pathParameters, ...(q && { query: q }) }));

/** Every event of `id` delivered to the stream projector, as Lambda would (then once again). */
const projectAll = async (id: string) => {
  const events = await store.load(id);
  for (let round = 0; round < 2; round++) {
    const result = await project(streamEvent(events.map((e) => streamRecord(e))));
    expect(result.batchItemFailures).toEqual([]);
  }
  return events;
};

describe.each(['decoupled', 'coupled'] as const)('%s stack', (stack) => {
  const send = (type: string, aggregateId: string, payload: unknown) =>
    handlers[stack](command({ type, aggregateId, payload }));

  test('the lifecycle: commands, rules, both read models, and nothing in the order table', async () => {
    const id = `list-${stack}-${randomUUID().slice(0, 8)}`;
    const owner = `owner-${randomUUID().slice(0, 8)}`;
    const ok = stack === 'decoupled' ? 202 : 200;
    const created = await send('shoppingList/create', id, { name: 'Weekend', ownerId: owner });
    expect(created.statusCode).toBe(ok);
    // Before the fix the coupled answer carried the list as `order`.
    expect(bodyOf(created)).not.toHaveProperty('order');
    for (const [type, payload] of [
      ['shoppingList/addItem', { itemId: 'i1', text: 'Milk' }],
      ['shoppingList/addItem', { itemId: 'i2', text: 'Bread' }],
      ['shoppingList/toggleItem', { itemId: 'i1' }],
      ['shoppingList/rename', { name: 'Weekend BBQ' }],
      ['shoppingList/removeItem', { itemId: 'i2' }],
    ] as const) {
      expect((await send(type, id, payload)).statusCode).toBe(ok);
    }
    const duplicate = await send('shoppingList/addItem', id, { itemId: 'i3', text: ' milk ' });
    expect(duplicate.statusCode).toBe(422);
    expect(bodyOf(duplicate)).toMatchObject({
      error: { code: 'RULE_VIOLATED', details: { rule: 'DUPLICATE_ITEM_TEXT' } },
    });

    const events = await projectAll(id);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    const state = foldEvents(shoppingListAggregate as AnyAggregate, events.map(toAction));
    const listRow = await get('GET /read-models/{name}/{key}', { name: 'shopping-list', key: id });
    expect(listRow.statusCode).toBe(200);
    expect(bodyOf(listRow)).toMatchObject({ readModel: 'shopping-list', row: state });
    const ownerRow = bodyOf(
      await get('GET /read-models/{name}/{key}', { name: 'owner-lists', key: owner }),
    );
    expect(ownerRow).toMatchObject({
      row: { activeLists: 1, openItems: 0, lists: { [id]: { name: 'Weekend BBQ' } } },
    });

    // The order's table and routes know nothing of it.
    expect(await orderRows.get(id)).toBeUndefined();
    for (const [routeKey, q] of [
      ['GET /orders/{id}', undefined],
      ['GET /orders/{id}', { minVersion: '6' }],
      ['GET /orders/{id}/events', undefined],
      ['GET /orders/{id}/history', { version: '3' }],
    ] as const) {
      const answer = await get(routeKey, { id }, q);
      expect(answer.statusCode).toBe(404);
    }
    expect(bodyOf(await get('GET /orders/{id}/history', { id }, { version: '3' }))).toMatchObject({
      error: { code: 'NOT_FOUND', details: { aggregateType: 'shoppingList' } },
    });

    // An order command on the list's id, and a list command on an order's: refused, 409.
    const mismatch = await send('order/create', id, { customerId: 'c', currency: 'EUR' });
    expect(mismatch.statusCode).toBe(409);

    expect((await send('shoppingList/delete', id, {})).statusCode).toBe(ok);
    await projectAll(id);
    const after = bodyOf(
      await get('GET /read-models/{name}/{key}', { name: 'owner-lists', key: owner }),
    );
    expect(after).toMatchObject({ row: { activeLists: 0, openItems: 0, lists: {} } });
    const deleted = await send('shoppingList/addItem', id, { itemId: 'i9', text: 'Eggs' });
    expect(bodyOf(deleted)).toMatchObject({ error: { details: { rule: 'LIST_DELETED' } } });
  });
});

test('orders keep working beside lists: the order row is written and served', async () => {
  const id = `order-${randomUUID().slice(0, 8)}`;
  const created = await handlers.coupled(
    command({
      type: 'order/create',
      aggregateId: id,
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  expect(bodyOf(created)).toMatchObject({ order: { id, version: 1, status: 'draft' } });
  expect(await orderRows.get(id)).toMatchObject({ id, version: 1 });
  expect((await get('GET /orders/{id}', { id })).statusCode).toBe(200);
});
