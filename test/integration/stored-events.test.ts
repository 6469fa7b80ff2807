/**
 * What the handlers do with what is really in the event table, on DynamoDB Local, both
 * profiles: a corrupt event (a number beyond 2^53), an event of another aggregate type in an
 * order's partition, `/history?at=` under clock skew, and replayed commands.
 */
import { randomUUID } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { VersionConflictError } from '../../lambdas/core/shared/errors';
import type { StoredEvent } from '../../lambdas/core/events/events';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import {
  AGGREGATES,
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';
import { TEST_ACTOR } from '../support/permissions';

let tables: TestTables;
let decoupled: ReturnType<typeof commandHandlerFromEnv>;
let coupled: ReturnType<typeof coupledHandlerFromEnv>;
let query: ReturnType<typeof queryHandlerFromEnv>;
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  decoupled = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  coupled = coupledHandlerFromEnv(tables.env, { logger: testLogger('coupled') });
  query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

let n = 0;
const newId = () => `s-${process.pid}-${n++}`;

/** An order with two events, written through the coupled handler (so its row exists). */
const orderOf2 = async () => {
  const id = newId();
  for (const c of [
    { type: 'order/create', payload: { customerId: 'c-1', currency: 'EUR' } },
    { type: 'order/addLine', payload: { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 300 } },
  ]) {
    expect((await coupled(command({ ...c, aggregateId: id }))).statusCode).toBe(200);
  }
  return id;
};

/** Writes an item straight into the event table (as a hand edit, a tool or a restore would). */
const putRaw = (item: Record<string, unknown>) =>
  tables.client.send(
    new PutItemCommand({ TableName: tables.eventTable, Item: marshall(item) as never }),
  );

const eventItem = (aggregateId: string, version: number, extra: Partial<StoredEvent> = {}) => ({
  aggregateId,
  version,
  aggregateType: 'order',
  type: 'order/quantityChanged',
  payload: { lineId: 'a', quantity: 5 },
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  commandId: `raw-${version}`,
  commandHash: 'h',
  correlationId: 'raw',
  causationId: `raw-${version}`,
  ...extra,
});

/** Version 3 whose payload holds an integer beyond 2^53 (the SDK would hand back a BigInt). */
const corruptV3 = (aggregateId: string) =>
  tables.client.send(
    new PutItemCommand({
      TableName: tables.eventTable,
      Item: {
        ...(marshall(eventItem(aggregateId, 3)) as Record<string, never>),
        payload: { M: { lineId: { S: 'a' }, quantity: { N: '9007199254740993' } } },
      },
    }),
  );

/** A GET route of the orders collection (`routeKey`: its path after `/{collection}`). */
const get = (
  route: '/{id}' | '/{id}/events' | '/{id}/history',
  id: string,
  q?: Record<string, string>,
) =>
  query(
    httpEvent({
      routeKey: `GET /{collection}${route}`,
      pathParameters: { collection: 'orders', id },
      query: q,
    }),
  );

describe('a corrupt stored event', () => {
  const expectCorrupt = (result: { statusCode: number; body: string }, id: string) => {
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'CORRUPT_EVENT', details: { aggregateId: id, version: 3 } },
    });
  };

  test('every read and write of that order answers CORRUPT_EVENT naming it; others are unaffected', async () => {
    const id = await orderOf2();
    const other = await orderOf2();
    await corruptV3(id);
    const addLine = (aggregateId: string, lineId: string) =>
      command({
        type: 'order/addLine',
        aggregateId,
        payload: { lineId, sku: 'B', quantity: 1, unitPrice: 1 },
      });
    expectCorrupt(await get('/{id}/events', id), id);
    expectCorrupt(await get('/{id}/history', id, { version: '3' }), id);
    expectCorrupt(await decoupled(addLine(id, 'b')), id);
    expectCorrupt(await coupled(addLine(id, 'b')), id);
    // Nothing was appended after the corrupt event.
    await expect(store.currentVersion(id)).resolves.toBe(3);
    // Versions before it are still readable (time travel up to it works).
    expect((await get('/{id}/history', id, { version: '2' })).statusCode).toBe(200);
    // Other orders: as before.
    expect((await decoupled(addLine(other, 'b'))).statusCode).toBe(202);
    expect((await coupled(addLine(other, 'c'))).statusCode).toBe(200);
    expect((await get('/{id}/events', other)).statusCode).toBe(200);
  });

  test('it is logged once per request, as an error naming aggregate, version and reason', async () => {
    const id = await orderOf2();
    await corruptV3(id);
    const { result, lines } = await captureLogs(() => get('/{id}/events', id));
    expectCorrupt(result, id);
    const logged = lines.filter((l) => JSON.stringify(l).includes('CORRUPT_EVENT'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'ERROR',
      details: { aggregateId: id, version: 3, reason: expect.stringMatching(/2\^53/) },
    });
  });
});

// Foreign: another aggregate type, or the order's type with a type outside `order/` (before the
// fix the second stranded the row at version 2: minVersion 3 never met, /history at 3 said 2).
describe.each([
  ['another aggregate type', 'invoice'],
  ['an order item with a type outside order/', 'order'],
])('a foreign event in an order partition: %s', (_shape, aggregateType) => {
  const foreignV3 = (id: string) =>
    putRaw(
      eventItem(id, 3, {
        aggregateType,
        type: 'invoice/paid',
        payload: { amount: 1 },
      }),
    );

  test('/history counts it as a version and folds the order without it', async () => {
    const id = await orderOf2();
    await foreignV3(id);
    // The state is the order's own fold (its version the last order event's); the answer's
    // version is the log's.
    const at3 = bodyOf(await get('/{id}/history', id, { version: '3' }));
    expect(at3).toMatchObject({ version: 3, state: { version: 2, lineCount: 1, total: 600 } });
    const now = bodyOf(
      await get('/{id}/history', id, { at: new Date(Date.now() + 1000).toISOString() }),
    );
    expect(now).toMatchObject({ version: 3, state: { version: 2 } });
  });

  test('?minVersion at its version is met by the row of the order event before it', async () => {
    const id = await orderOf2();
    await foreignV3(id);
    // The coupled row was written with version 2; it never applies the foreign event.
    const answer = await coupled(
      httpEvent({
        routeKey: 'GET /{collection}/{id}',
        pathParameters: { collection: 'orders', id },
        query: { minVersion: '3' },
      }),
    );
    expect(answer.statusCode).toBe(200);
    expect(bodyOf(answer)).toMatchObject({ id, version: 2, total: 600 });
  });

  test('commands in both profiles append after it; the coupled row is at the log version', async () => {
    const id = await orderOf2();
    await foreignV3(id);
    const change = {
      type: 'order/changeQuantity',
      aggregateId: id,
      payload: { lineId: 'a', quantity: 7 },
    };
    const coupledResult = await coupled(command(change));
    expect(coupledResult.statusCode).toBe(200);
    expect(bodyOf(coupledResult)).toMatchObject({ version: 4, order: { version: 4, total: 2100 } });
    expect(await rows.get(storedKey(orderViewProjection, id))).toMatchObject({
      view: { version: 4, total: 2100 },
      applied: { [id]: 4 },
    });
    const decoupledResult = await decoupled(
      command({ ...change, payload: { lineId: 'a', quantity: 8 } }),
    );
    expect(bodyOf(decoupledResult)).toMatchObject({ version: 5 });
    expect((await store.load(id)).map((e) => e.type)).toEqual([
      'order/created',
      'order/lineAdded',
      'invoice/paid',
      'order/quantityChanged',
      'order/quantityChanged',
    ]);
  });
});

describe('a partition of another aggregate type', () => {
  test('a command of another aggregate type on an existing aggregate is refused: 409, nothing written', async () => {
    const id = newId();
    await putRaw(
      eventItem(id, 1, { aggregateType: 'invoice', type: 'invoice/opened', payload: {} }),
    );
    const result = await decoupled(
      command({
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c', currency: 'EUR' },
      }),
    );
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'AGGREGATE_TYPE_MISMATCH', details: { aggregateType: 'invoice' } },
    });
    await expect(store.currentVersion(id)).resolves.toBe(1);
  });
});

describe('/history?at= is the state at a real version', () => {
  test('under clock skew: versions 1..k, k the last version stamped at or before `at`', async () => {
    // Instance A's clock is 300 ms ahead of instance B's (code-review m3).
    const id = newId();
    const run = createCommandRunner({ store, aggregates: AGGREGATES });
    const at = (now: string) => ({
      correlationId: 'c',
      actor: TEST_ACTOR,
      now: () => now,
      newId: randomUUID,
    });
    const send = (type: string, payload: unknown, now: string) =>
      run({ type, aggregateId: id, payload, commandId: randomUUID() }, at(now));
    await send('order/create', { customerId: 'c', currency: 'EUR' }, '2025-01-01T10:00:00.000Z');
    await send(
      'order/addLine',
      { lineId: 'l1', sku: 's', quantity: 1, unitPrice: 100 },
      '2025-01-01T10:00:01.300Z', // A
    );
    await send('order/changeQuantity', { lineId: 'l1', quantity: 5 }, '2025-01-01T10:00:01.100Z'); // B, later
    const body = bodyOf<{ version: number; state: OrderView }>(
      await get('/{id}/history', id, { at: '2025-01-01T10:00:01.200Z' }),
    );
    // Before the fix: version 3 with no lines (v2 filtered out), a state that never existed.
    expect(body.version).toBe(3);
    expect(body.state.lines).toEqual([expect.objectContaining({ lineId: 'l1', quantity: 5 })]);
    const state3 = bodyOf(await get('/{id}/history', id, { version: '3' }));
    expect(body.state).toEqual((state3 as { state: OrderView }).state);
    const early = bodyOf(await get('/{id}/history', id, { at: '2025-01-01T10:00:00.500Z' }));
    expect(early).toMatchObject({ version: 1, state: { lineCount: 0 } });
  });

  test('an unencoded + of an offset (arrives as a space) is read as +', async () => {
    const id = newId();
    const run = createCommandRunner({ store, aggregates: AGGREGATES });
    await run(
      {
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c', currency: 'EUR' },
        commandId: 'k',
      },
      {
        correlationId: 'c',
        actor: TEST_ACTOR,
        now: () => '2025-01-01T09:00:00.000Z',
        newId: randomUUID,
      },
    );
    const spaced = await get('/{id}/history', id, { at: '2025-01-01T10:00:00 01:00' });
    expect(spaced.statusCode).toBe(200);
    expect(bodyOf(spaced)).toMatchObject({ version: 1, at: '2025-01-01T10:00:00+01:00' });
    const before = await get('/{id}/history', id, { at: '2025-01-01T09:59:59 01:00' });
    expect(before.statusCode).toBe(404);
    const bad = await get('/{id}/history', id, { at: 'tomorrow' });
    expect(bodyOf(bad)).toMatchObject({
      error: {
        code: 'VALIDATION_FAILED',
        details: { issues: [{ message: expect.stringMatching(/%2B/) }] },
      },
    });
  });
});

describe('replayed commands (code-review m6)', () => {
  test('coupled: a replay is the original answer (same JSON), after 50 commands and a delete', async () => {
    const id = newId();
    const create = {
      type: 'order/create',
      aggregateId: id,
      commandId: `create-${id}`,
      payload: { customerId: 'c', currency: 'EUR' },
    };
    await coupled(command(create));
    const addLine = {
      type: 'order/addLine',
      aggregateId: id,
      commandId: `line-${id}`,
      payload: { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 300 },
    };
    const first = await coupled(command(addLine));
    for (let q = 1; q <= 50; q++) {
      const change = { lineId: 'a', quantity: q };
      await coupled(command({ type: 'order/changeQuantity', aggregateId: id, payload: change }));
    }
    await coupled(command({ type: 'order/delete', aggregateId: id }));
    const again = await coupled(command(addLine));
    expect(again.headers?.['x-command-replayed']).toBe('true');
    expect(again.statusCode).toBe(first.statusCode);
    // Before the fix: version 2 with the current row (version 53, deleted: null).
    expect(bodyOf(again)).toEqual(bodyOf(first));
    expect(bodyOf(again)).toMatchObject({ version: 2, order: { version: 2, total: 600 } });
    expect(
      (
        await coupled(
          httpEvent({
            routeKey: 'GET /{collection}/{id}',
            pathParameters: { collection: 'orders', id },
          }),
        )
      ).statusCode,
    ).toBe(404);
  });

  test('a replay found after a lost race reports the real number of attempts', async () => {
    const id = newId();
    // The first append loses its race to a twin of the same command (simulated: the twin's
    // events land, then this append hears VERSION_CONFLICT); the retry finds the replay.
    let raced = false;
    const run = createCommandRunner({
      store,
      aggregates: AGGREGATES,
      sleep: async () => undefined,
      append: async (events) => {
        if (!raced && events[0]!.version === 2) {
          raced = true;
          await store.append(events);
          throw new VersionConflictError(id, 1, 2);
        }
        await store.append(events);
      },
    });
    const ctx = {
      correlationId: 'c',
      actor: TEST_ACTOR,
      now: () => new Date().toISOString(),
      newId: randomUUID,
    };
    await run(
      {
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c', currency: 'EUR' },
        commandId: 'c0',
      },
      ctx,
    );
    const result = await run(
      {
        type: 'order/addLine',
        aggregateId: id,
        payload: { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 },
        commandId: 'same',
      },
      ctx,
    );
    // Before the fix a replay always said 0.
    expect(result).toMatchObject({ replayed: true, retries: 1, version: 2 });
    await expect(store.currentVersion(id)).resolves.toBe(2);
  });
});
