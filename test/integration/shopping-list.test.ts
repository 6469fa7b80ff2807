/**
 * A second aggregate, the shopping list, through the handlers AWS runs, on DynamoDB Local:
 * its commands on both stacks, its declared read models fed by the stream projector (the one
 * that also writes the order's view), its collection routes (`/shopping-lists/{id}`, `/events`,
 * `/history`), and the order's routes and rows untouched by it. Before the framework fix its read models stayed
 * empty with no error, and the coupled stack stored and answered the list as an order.
 */
import { randomUUID } from 'node:crypto';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/command/aggregate';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { toAction } from '../../lambdas/core/events/events';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';
import { shoppingListRowProjection } from '../../lambdas/domain/shopping-list/projections';
import { COLLECTIONS, PROJECTIONS } from '../../lambdas/handlers/deployment';
import { ENV } from '../../lambdas/handlers/environment';
import { createQueryApiHandler } from '../../lambdas/handlers/query-api';
import { queryHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent, TEST_ADMIN } from '../support/http-events';
import { stackHandlers, type StackHandlers } from '../support/handlers';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
let handlers: Pick<StackHandlers, 'decoupled' | 'coupled'>;
let query: StackHandlers['query'];
let project: StackHandlers['project'];
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  ({ query, project, ...handlers } = stackHandlers(tables.env));
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

/** The stored item of the order's view for `id` (`order@v1#<id>`), undefined when none. */
const orderItem = (id: string) => rows.get(storedKey(orderViewProjection, id));

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

  test("the lifecycle: commands, rules, both read models, and no order's row", async () => {
    const id = `list-${stack}-${randomUUID().slice(0, 8)}`;
    const owner = `owner-${randomUUID().slice(0, 8)}`;
    const ok = stack === 'decoupled' ? 202 : 200;
    const created = await send('shoppingList/create', id, { name: 'Weekend', ownerId: owner });
    expect(created.statusCode).toBe(ok);
    // Before the fix the coupled answer carried the list as `order`; now its own view, by name.
    expect(bodyOf(created)).not.toHaveProperty('order');
    if (stack === 'coupled') {
      expect(bodyOf(created)).toMatchObject({
        'shopping-list': { id, name: 'Weekend', ownerId: owner, version: 1 },
      });
    } else {
      expect(bodyOf(created)).not.toHaveProperty('shopping-list');
    }
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

    // The order's view and routes know nothing of it.
    expect(await orderItem(id)).toBeUndefined();
    const orders = { collection: 'orders', id };
    for (const [routeKey, q] of [
      ['GET /{collection}/{id}', undefined],
      ['GET /{collection}/{id}', { minVersion: '6' }],
      ['GET /{collection}/{id}/events', undefined],
      ['GET /{collection}/{id}/history', { version: '3' }],
    ] as const) {
      const answer = await get(routeKey, orders, q);
      expect(answer.statusCode).toBe(404);
    }
    expect(
      bodyOf(await get('GET /{collection}/{id}/history', orders, { version: '3' })),
    ).toMatchObject({
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

  test('served at /shopping-lists/{id}: its view, ?minVersion, /events and /history', async () => {
    // Both stacks serve GETs from the function that serves them in the cloud.
    const read = (
      routeKey: string,
      pathParameters: Record<string, string>,
      q?: Record<string, string>,
    ) =>
      (stack === 'decoupled' ? query : handlers.coupled)(
        httpEvent({ routeKey, pathParameters, ...(q && { query: q }) }),
      );
    const one = (id: string, q?: Record<string, string>) =>
      read('GET /{collection}/{id}', { collection: 'shopping-lists', id }, q);
    const id = `coll-${stack}-${randomUUID().slice(0, 8)}`;
    await send('shoppingList/create', id, { name: 'Groceries', ownerId: 'o-coll' });
    await send('shoppingList/addItem', id, { itemId: 'i1', text: 'Milk' });
    await send('shoppingList/addItem', id, { itemId: 'i2', text: 'Bread' });
    await send('shoppingList/toggleItem', id, { itemId: 'i1' });

    const fold = (n: number) =>
      foldEvents(shoppingListAggregate as AnyAggregate, events.slice(0, n).map(toAction));
    let events = await store.load(id);
    if (stack === 'coupled') {
      // Written with its events: fresh at once, no projector, no wait.
      expect(bodyOf(await one(id))).toEqual(fold(4));
    } else {
      // Not projected yet: 404 without ?minVersion; with it, the answer waits for the projector.
      expect(bodyOf(await one(id))).toMatchObject({
        error: { code: 'NOT_FOUND', message: `shoppingList ${id} not found` },
      });
    }
    const waiting = one(id, { minVersion: '4' });
    events = await projectAll(id);
    const view = await waiting;
    expect(view.statusCode).toBe(200);
    expect(bodyOf(view)).toEqual(fold(4));
    expect(bodyOf(await one(id))).toEqual(fold(4));
    expect((await one(id, { minVersion: '2' })).statusCode).toBe(200);
    // A version the log does not have: 404 at once, never a wait.
    const future = await one(id, { minVersion: '5' });
    expect(future.statusCode).toBe(404);
    expect(bodyOf(future)).toMatchObject({
      error: { code: 'NOT_FOUND', details: { minVersion: 5, latestVersion: 4 } },
    });

    const listed = await read('GET /{collection}/{id}/events', {
      collection: 'shopping-lists',
      id,
    });
    expect(listed.statusCode).toBe(200);
    expect(bodyOf(listed)).toMatchObject({ aggregateId: id, nextCursor: null });
    expect((bodyOf(listed) as { events: { type: string }[] }).events.map((e) => e.type)).toEqual(
      events.map((e) => e.type),
    );
    const history = await read(
      'GET /{collection}/{id}/history',
      { collection: 'shopping-lists', id },
      { version: '3' },
    );
    expect(history.statusCode).toBe(200);
    // Who made version 3: the handler tests' caller.
    expect(bodyOf(history)).toEqual({ version: 3, actor: TEST_ADMIN.subject, state: fold(3) });
    expect(fold(3)).toMatchObject({ itemCount: 2, checkedCount: 0 });
    const before = await read(
      'GET /{collection}/{id}/history',
      { collection: 'shopping-lists', id },
      { version: '5' },
    );
    expect(bodyOf(before)).toMatchObject({
      error: { code: 'NOT_FOUND', message: `shoppingList ${id} has no version 5 (latest is 4)` },
    });
    const at = async (moment: string) =>
      bodyOf(
        await read(
          'GET /{collection}/{id}/history',
          { collection: 'shopping-lists', id },
          { at: moment },
        ),
      );
    expect(await at('2999-01-01T00:00:00Z')).toEqual({
      version: 4,
      at: '2999-01-01T00:00:00Z',
      actor: TEST_ADMIN.subject,
      state: fold(4),
    });
    expect(await at('2000-01-01T00:00:00Z')).toMatchObject({
      error: { message: `shoppingList ${id} did not exist at 2000-01-01T00:00:00Z` },
    });

    // An order's id under /shopping-lists/: 404 on every route, naming the order's type.
    const orderId = `coll-order-${stack}-${randomUUID().slice(0, 8)}`;
    await send('order/create', orderId, { customerId: 'c', currency: 'EUR' });
    if (stack === 'decoupled') await projectAll(orderId);
    for (const [routeKey, q] of [
      ['GET /{collection}/{id}', undefined],
      ['GET /{collection}/{id}', { minVersion: '1' }],
      ['GET /{collection}/{id}/events', undefined],
      ['GET /{collection}/{id}/history', { version: '1' }],
    ] as const) {
      const answer = await read(routeKey, { collection: 'shopping-lists', id: orderId }, q);
      expect({ routeKey, q, status: answer.statusCode }).toEqual({ routeKey, q, status: 404 });
      if (q === undefined && routeKey === 'GET /{collection}/{id}') continue;
      expect(bodyOf(answer)).toMatchObject({ error: { details: { aggregateType: 'order' } } });
    }
    // An unknown collection: 404 naming the known ones.
    const unknown = await read('GET /{collection}/{id}', { collection: 'baskets', id });
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown)).toMatchObject({
      error: {
        code: 'NOT_FOUND',
        details: { collections: COLLECTIONS.map(({ collection }) => collection) },
      },
    });

    // Deleted: the view says so, and the route answers 404; its history stays readable.
    await send('shoppingList/delete', id, {});
    await projectAll(id);
    const gone = await one(id, { minVersion: '5' });
    expect(gone.statusCode).toBe(404);
    expect(bodyOf(gone)).toMatchObject({ error: { message: `shoppingList ${id} not found` } });
    const last = await read(
      'GET /{collection}/{id}/history',
      { collection: 'shopping-lists', id },
      { version: '5' },
    );
    expect(bodyOf(last)).toMatchObject({ version: 5, state: { status: 'deleted' } });
  });
});

test("coupled: the view written with its events is the projector's row, answered and replayed", async () => {
  const id = `fresh-${randomUUID().slice(0, 8)}`;
  const owner = `owner-${randomUUID().slice(0, 8)}`;
  const send = (type: string, payload: unknown, commandId?: string) =>
    handlers.coupled(command({ type, aggregateId: id, payload, ...(commandId && { commandId }) }));
  const one = () =>
    handlers.coupled(
      httpEvent({
        routeKey: 'GET /{collection}/{id}',
        pathParameters: { collection: 'shopping-lists', id },
      }),
    );
  await send('shoppingList/create', { name: 'Party', ownerId: owner });
  const added = await send('shoppingList/addItem', { itemId: 'i1', text: 'Cake' }, `add-${id}`);
  expect(bodyOf(added)['shopping-list']).toEqual(bodyOf(await one()));
  await send('shoppingList/toggleItem', { itemId: 'i1' });
  const fresh = bodyOf(await one());
  expect(fresh).toMatchObject({ version: 3, checkedCount: 1 });

  // A resend answers as the first time: the row at version 2, not the current one.
  const replay = await send('shoppingList/addItem', { itemId: 'i1', text: 'Cake' }, `add-${id}`);
  expect(bodyOf(replay)).toEqual(bodyOf(added));

  // The stream then brings the same events to the coupled projector (twice): the row is the
  // fold of the log, applied once; the read model fed by many lists still gets them.
  const events = await projectAll(id);
  const stored = await rows.get(`shopping-list@v1#${id}`);
  expect(stored).toMatchObject({ view: fresh, applied: { [id]: 3 } });
  expect(stored!.view).toEqual(
    foldEvents(shoppingListAggregate as AnyAggregate, events.map(toAction)),
  );
  expect(
    bodyOf(await get('GET /read-models/{name}/{key}', { name: 'owner-lists', key: owner })),
  ).toMatchObject({ row: { activeLists: 1, openItems: 0 } });

  // Deleted: the answer's row is null, and GET answers 404 at once.
  const deleted = await send('shoppingList/delete', {});
  expect(bodyOf(deleted)).toMatchObject({ version: 4, 'shopping-list': null });
  expect((await one()).statusCode).toBe(404);
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
  expect(await orderItem(id)).toMatchObject({ view: { id, version: 1 }, applied: { [id]: 1 } });
  expect((await get('GET /{collection}/{id}', { collection: 'orders', id })).statusCode).toBe(200);
});

describe('GET /shopping-lists/{id} reads the view the deployment serves', () => {
  const create = async (id: string) => {
    const created = await handlers.decoupled(
      command({
        type: 'shoppingList/create',
        aggregateId: id,
        payload: { name: 'Served', ownerId: 'o-served' },
      }),
    );
    expect(created.statusCode).toBe(202);
  };
  const one = (handler: typeof query, id: string, q?: Record<string, string>) =>
    handler(
      httpEvent({
        routeKey: 'GET /{collection}/{id}',
        pathParameters: { collection: 'shopping-lists', id },
        ...(q && { query: q }),
      }),
    );

  test('?minVersion the projector has not reached in time: NOT_YET_CONSISTENT, naming the list', async () => {
    const id = `lag-${randomUUID().slice(0, 8)}`;
    await create(id);
    const impatient = createQueryApiHandler({
      logger: testLogger('query'),
      events: store,
      minVersionWaitMs: 50,
      readModels: {
        projections: PROJECTIONS,
        rows,
      },
    });
    const lagging = await one(impatient, id, { minVersion: '1' });
    expect(lagging.statusCode).toBe(503);
    expect(bodyOf(lagging)).toMatchObject({
      error: {
        code: 'NOT_YET_CONSISTENT',
        message: expect.stringMatching(new RegExp(`^shoppingList ${id} is at version 0 after`)),
        details: { minVersion: 1, currentVersion: 0, latestVersion: 1 },
      },
    });
    await projectAll(id);
    expect((await one(impatient, id, { minVersion: '1' })).statusCode).toBe(200);
  });

  test('the served version of its projection (SERVED_PROJECTION_VERSIONS), as /read-models', async () => {
    const id = `served-${randomUUID().slice(0, 8)}`;
    await create(id);
    await projectAll(id);
    // A v2 listed beside v1 (nothing projected into it): served only once configured.
    const projections = [...PROJECTIONS, { ...shoppingListRowProjection, version: 2 }];
    const v1 = queryHandlerFromEnv(tables.env, { logger: testLogger('query'), projections });
    expect(bodyOf(await one(v1, id))).toMatchObject({ id, name: 'Served', version: 1 });
    const v2 = queryHandlerFromEnv(
      { ...tables.env, [ENV.servedProjectionVersions]: 'shopping-list=2' },
      { logger: testLogger('query'), projections },
    );
    expect((await one(v2, id)).statusCode).toBe(404);
  });
});
