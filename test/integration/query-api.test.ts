/**
 * The GET routes (shared by both profiles) on DynamoDB Local. Data is written through the
 * coupled handler, whose read model is fresh when it answers.
 */
import { coupledHandlerFromEnv, queryHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { createQueryApiHandler } from '../../lambdas/handlers/query-api';
import { DynamoDbEventStore } from '../../lambdas/core/dynamodb-event-store';
import { DynamoDbReadModel } from '../../lambdas/core/dynamodb-read-model';
import type { OrderView } from '../../lambdas/domain/order';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';

let tables: TestTables;
let send: ReturnType<typeof coupledHandlerFromEnv>;
let query: ReturnType<typeof queryHandlerFromEnv>;
const customer = `cust-${process.pid}`;

beforeAll(async () => {
  tables = await createTestTables();
  send = coupledHandlerFromEnv(tables.env, { logger: testLogger('coupled') });
  query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  // Five orders of one customer: three drafts, one submitted, one deleted.
  for (let i = 0; i < 5; i++) {
    const aggregateId = `q-${process.pid}-${i}`;
    await send(
      command({
        type: 'order/create',
        aggregateId,
        payload: { customerId: customer, currency: 'EUR' },
      }),
    );
    await send(
      command({
        type: 'order/addLine',
        aggregateId,
        payload: { lineId: 'a', sku: 'A', quantity: 1, unitPrice: 10 * (i + 1) },
      }),
    );
  }
  await send(command({ type: 'order/submit', aggregateId: `q-${process.pid}-3` }));
  await send(command({ type: 'order/delete', aggregateId: `q-${process.pid}-4` }));
});
afterAll(() => tables.drop());

const get = (
  routeKey: string,
  pathParameters?: Record<string, string>,
  q?: Record<string, string>,
) => query(httpEvent({ routeKey, pathParameters, query: q }));
const id = (i: number) => `q-${process.pid}-${i}`;

describe('GET /orders/{id}', () => {
  test('returns the row', async () => {
    const result = await get('GET /orders/{id}', { id: id(0) });
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      id: id(0),
      customerId: customer,
      status: 'draft',
      total: 10,
      version: 2,
    });
  });
  test('404 for an unknown or deleted order', async () => {
    expect((await get('GET /orders/{id}', { id: 'nope' })).statusCode).toBe(404);
    expect(bodyOf(await get('GET /orders/{id}', { id: id(4) }))).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
  });
  test('400 for a malformed id or minVersion', async () => {
    expect((await get('GET /orders/{id}', { id: 'bad id' })).statusCode).toBe(400);
    expect(
      bodyOf(await get('GET /orders/{id}', { id: id(0) }, { minVersion: 'two' })),
    ).toMatchObject({
      error: {
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path: 'query.minVersion' })] },
      },
    });
  });
  test('?minVersion answers at once when reached', async () => {
    expect((await get('GET /orders/{id}', { id: id(0) }, { minVersion: '2' })).statusCode).toBe(
      200,
    );
  });
  test('?minVersion waits, bounded, and says clearly when the version was not reached', async () => {
    const waiting = createQueryApiHandler({
      logger: testLogger('query'),
      rows: new DynamoDbReadModel<OrderView>(tables.doc, tables.readModelTable),
      events: new DynamoDbEventStore(tables.doc, tables.eventTable),
      minVersionWaitMs: 150,
    });
    const started = Date.now();
    const result = await waiting(
      httpEvent({
        routeKey: 'GET /orders/{id}',
        pathParameters: { id: id(0) },
        query: { minVersion: '9' },
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'NOT_YET_CONSISTENT', details: { minVersion: 9, currentVersion: 2 } },
    });
  });
  test('?minVersion sees a version that arrives while it waits', async () => {
    const pending = get('GET /orders/{id}', { id: id(1) }, { minVersion: '3' });
    await new Promise((r) => setTimeout(r, 50));
    await send(
      command({
        type: 'order/changeQuantity',
        aggregateId: id(1),
        payload: { lineId: 'a', quantity: 3 },
      }),
    );
    const result = await pending;
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ version: 3, total: 60 });
  });
});

describe('GET /orders', () => {
  test('by customer, newest first, paginated with a cursor until the end', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const result = await get('GET /orders', undefined, {
        customerId: customer,
        limit: '2',
        ...(cursor && { cursor }),
      });
      expect(result.statusCode).toBe(200);
      const page = bodyOf<{ items: OrderView[]; nextCursor: string | null }>(result);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // The deleted order is a tombstone and has left the index.
    expect(seen.sort()).toEqual([id(0), id(1), id(2), id(3)].sort());
  });
  test('by status, and by customer and status', async () => {
    const submitted = bodyOf<{ items: OrderView[] }>(
      await get('GET /orders', undefined, { status: 'submitted', customerId: customer }),
    );
    expect(submitted.items.map((o) => o.id)).toEqual([id(3)]);
    const drafts = bodyOf<{ items: OrderView[] }>(
      await get('GET /orders', undefined, { status: 'draft', limit: '100' }),
    );
    expect(drafts.items.map((o) => o.id)).toEqual(expect.arrayContaining([id(0), id(1), id(2)]));
    expect(drafts.items.every((o) => o.status === 'draft')).toBe(true);
  });
  test('400 without a filter, with a bad status, limit or cursor', async () => {
    for (const q of [
      {},
      { status: 'lost' },
      { status: 'draft', limit: '0' },
      { status: 'draft', limit: '101' },
      { status: 'draft', unknown: 'x' },
    ] as Record<string, string>[]) {
      const result = await get('GET /orders', undefined, q);
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    expect(
      bodyOf(await get('GET /orders', undefined, { status: 'draft', cursor: 'not-base64-json' })),
    ).toMatchObject({
      error: { code: 'INVALID_CURSOR' },
    });
  });
});

describe('GET /orders/{id}/events (audit log)', () => {
  test('pages through every event in order', async () => {
    const first = bodyOf<{ events: { version: number }[]; nextCursor: string | null }>(
      await get('GET /orders/{id}/events', { id: id(3) }, { limit: '2' }),
    );
    expect(first.events.map((e) => e.version)).toEqual([1, 2]);
    const second = bodyOf<{
      events: { version: number; type: string }[];
      nextCursor: string | null;
    }>(
      await get(
        'GET /orders/{id}/events',
        { id: id(3) },
        { limit: '2', cursor: first.nextCursor! },
      ),
    );
    expect(second.events.map((e) => e.type)).toEqual(['order/submitted']);
    expect(second.nextCursor).toBeNull();
  });
  test('the history of a deleted order stays', async () => {
    const body = bodyOf<{ events: { type: string }[] }>(
      await get('GET /orders/{id}/events', { id: id(4) }),
    );
    expect(body.events.map((e) => e.type)).toEqual([
      'order/created',
      'order/lineAdded',
      'order/deleted',
    ]);
  });
  test('404 for an unknown order', async () => {
    expect((await get('GET /orders/{id}/events', { id: 'unknown-order' })).statusCode).toBe(404);
  });
});

describe('GET /orders/{id}/history (time travel)', () => {
  test('the order at a version', async () => {
    const body = bodyOf(await get('GET /orders/{id}/history', { id: id(3) }, { version: '1' }));
    expect(body).toMatchObject({ version: 1, order: { status: 'draft', lineCount: 0, total: 0 } });
  });
  test('a deleted order at its last version shows status deleted', async () => {
    const body = bodyOf(await get('GET /orders/{id}/history', { id: id(4) }, { version: '3' }));
    expect(body).toMatchObject({ version: 3, order: { status: 'deleted' } });
  });
  test('the order at a moment', async () => {
    const events = bodyOf<{ events: { occurredAt: string }[] }>(
      await get('GET /orders/{id}/events', { id: id(3) }),
    );
    const at = events.events[1]!.occurredAt; // when the line was added
    const body = bodyOf(await get('GET /orders/{id}/history', { id: id(3) }, { at }));
    expect(body).toMatchObject({ at, order: { status: expect.any(String), lineCount: 1 } });
    const before = await get(
      'GET /orders/{id}/history',
      { id: id(3) },
      { at: '2000-01-01T00:00:00Z' },
    );
    expect(before.statusCode).toBe(404);
  });
  test('404 past the latest version; 400 without exactly one of version and at', async () => {
    expect(
      bodyOf(await get('GET /orders/{id}/history', { id: id(0) }, { version: '99' })),
    ).toMatchObject({
      error: { code: 'NOT_FOUND', details: { latestVersion: 2 } },
    });
    expect((await get('GET /orders/{id}/history', { id: id(0) })).statusCode).toBe(400);
    expect(
      (
        await get(
          'GET /orders/{id}/history',
          { id: id(0) },
          { version: '1', at: '2026-01-01T00:00:00Z' },
        )
      ).statusCode,
    ).toBe(400);
    expect(
      (await get('GET /orders/{id}/history', { id: id(0) }, { at: 'yesterday' })).statusCode,
    ).toBe(400);
  });
});
