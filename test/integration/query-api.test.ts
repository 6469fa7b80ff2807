/**
 * The GET routes of the `orders` collection (shared by both profiles, the same for every
 * collection) on DynamoDB Local. Data is written through the coupled handler, whose view rows
 * are fresh when it answers.
 */
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createQueryApiHandler, MIN_VERSION_MARGIN_MS } from '../../lambdas/handlers/query-api';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { lambdaContext } from '../../local/emulators/lambda-context';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { OrderView } from '../../lambdas/domain/order';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

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

/** A GET of the `orders` collection: `route` is the generic route (`GET /{collection}/{id}`). */
const get = (route: string, pathParameters?: Record<string, string>, q?: Record<string, string>) =>
  query(
    httpEvent({
      routeKey: route,
      pathParameters: { collection: 'orders', ...pathParameters },
      query: q,
    }),
  );
const id = (i: number) => `q-${process.pid}-${i}`;

describe('GET /{collection}/{id}', () => {
  test('returns the row', async () => {
    const result = await get('GET /{collection}/{id}', { id: id(0) });
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      id: id(0),
      customerId: customer,
      status: 'draft',
      total: 10,
      version: 2,
    });
  });
  test('404 for an unknown or deleted order, naming the aggregate type', async () => {
    expect(bodyOf(await get('GET /{collection}/{id}', { id: 'nope' }))).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'order nope not found' },
    });
    // A deleted order keeps its row (status deleted), answered as not found.
    const deleted = await get('GET /{collection}/{id}', { id: id(4) });
    expect(deleted.statusCode).toBe(404);
    expect(bodyOf(deleted)).toMatchObject({
      error: { code: 'NOT_FOUND', message: `order ${id(4)} not found` },
    });
  });
  test('400 for a malformed id or minVersion', async () => {
    expect((await get('GET /{collection}/{id}', { id: 'bad id' })).statusCode).toBe(400);
    expect(
      bodyOf(await get('GET /{collection}/{id}', { id: id(0) }, { minVersion: 'two' })),
    ).toMatchObject({
      error: {
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path: 'query.minVersion' })] },
      },
    });
  });
  test('?minVersion answers at once when reached', async () => {
    expect(
      (await get('GET /{collection}/{id}', { id: id(0) }, { minVersion: '2' })).statusCode,
    ).toBe(200);
  });
  /** A query handler whose row reads are counted, over this suite's tables. */
  const countingHandler = (options: { minVersionWaitMs?: number } = {}) => {
    const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
    const counted = { reads: 0 };
    const get = rows.get.bind(rows);
    rows.get = (key: string) => {
      counted.reads++;
      return get(key);
    };
    const handler = createQueryApiHandler({
      logger: testLogger('query'),
      readModels: { projections: PROJECTIONS, rows },
      events: new DynamoDbEventStore(tables.doc, tables.eventTable),
      minVersionWaitMs: 150,
      ...options,
    });
    const getOrder = (orderId: string, minVersion: string) =>
      handler(
        httpEvent({
          routeKey: 'GET /{collection}/{id}',
          pathParameters: { collection: 'orders', id: orderId },
          query: { minVersion },
        }),
      );
    return { getOrder, counted, handler };
  };

  /** Creates an order through the decoupled command handler only: its event, but no row yet. */
  const createWithoutRow = (orderId: string) =>
    commandHandlerFromEnv(tables.env, { logger: testLogger('command') })(
      command({
        type: 'order/create',
        aggregateId: orderId,
        payload: { customerId: `${customer}-lagging`, currency: 'EUR' },
      }),
    );

  test('?minVersion on an order without events is 404 at once, without waiting', async () => {
    const { getOrder, counted } = countingHandler();
    const result = await getOrder('never-created', '1');
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(counted.reads).toBe(1);
  });
  test('?minVersion above the event log is a 404 naming the latest version, without waiting', async () => {
    const { getOrder, counted } = countingHandler();
    const result = await getOrder(id(0), '9');
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'NOT_FOUND', details: { id: id(0), minVersion: 9, latestVersion: 2 } },
    });
    expect(counted.reads).toBe(1);
  });
  test('coupled profile: ?minVersion above the event log is a 404 at once too', async () => {
    // The coupled function serves the same route: it asks the log, as the query function does.
    const getCoupled = (orderId: string, minVersion: string) =>
      send(
        httpEvent({
          routeKey: 'GET /{collection}/{id}',
          pathParameters: { collection: 'orders', id: orderId },
          query: { minVersion },
        }),
      );
    expect(bodyOf(await getCoupled(id(0), '3'))).toMatchObject({
      error: { code: 'NOT_FOUND', details: { minVersion: 3, latestVersion: 2 } },
    });
    expect((await getCoupled('never-created', '1')).statusCode).toBe(404);
    expect((await getCoupled(id(0), '2')).statusCode).toBe(200);
  });
  test('?minVersion waits, bounded, when the event exists and the row lags', async () => {
    // An event written without its row (as when the projector is behind).
    const lagging = `lag-${process.pid}`;
    await createWithoutRow(lagging);
    const { getOrder } = countingHandler();
    const result = await getOrder(lagging, '1');
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(bodyOf(result)).toMatchObject({
      error: {
        code: 'NOT_YET_CONSISTENT',
        details: { minVersion: 1, currentVersion: 0, latestVersion: 1 },
      },
    });
    expect(
      (bodyOf(result) as { error: { details: { waitedMs: number } } }).error.details.waitedMs,
    ).toBeGreaterThanOrEqual(150);
  });
  test("?minVersion waits no longer than the function's remaining time (less a margin)", async () => {
    const lagging = `lag3-${process.pid}`;
    await createWithoutRow(lagging);
    const { handler, counted } = countingHandler({ minVersionWaitMs: 5_000 });
    const getOrder = (remainingMs: number) =>
      handler(
        httpEvent({
          routeKey: 'GET /{collection}/{id}',
          pathParameters: { collection: 'orders', id: lagging },
          query: { minVersion: '1' },
        }),
        lambdaContext('query', remainingMs),
      );
    // Less left than the margin: 503 at once, after the one read of the row.
    const atOnce = await getOrder(MIN_VERSION_MARGIN_MS - 100);
    expect(atOnce.statusCode).toBe(503);
    expect(bodyOf(atOnce)).toMatchObject({
      error: { code: 'NOT_YET_CONSISTENT', details: { waitLimitMs: 0 } },
    });
    expect(counted.reads).toBe(1);
    // 5 s configured, 0.7 s left: the wait is cut to what remains less the margin (~200 ms).
    const cut = bodyOf(await getOrder(MIN_VERSION_MARGIN_MS + 200)) as {
      error: { details: { waitLimitMs: number } };
    };
    expect(cut.error.details.waitLimitMs).toBeGreaterThan(0);
    expect(cut.error.details.waitLimitMs).toBeLessThanOrEqual(200);
  });
  test('?minVersion: an event appended between its two side-by-side reads is waited for, not skipped', async () => {
    const racing = `race-${process.pid}`;
    const events = new DynamoDbEventStore(tables.doc, tables.eventTable);
    let appended: Promise<unknown> | undefined;
    // The events up to minVersion are read before the append, the latest version after it.
    const store = Object.assign(Object.create(events) as DynamoDbEventStore, {
      load: async (id: string, options?: Parameters<DynamoDbEventStore['load']>[1]) => {
        const loaded = await events.load(id, options);
        if (options?.toVersion !== undefined) appended ??= createWithoutRow(racing);
        return loaded;
      },
      currentVersion: async (id: string) => {
        while (!appended) await new Promise((r) => setTimeout(r, 1));
        await appended;
        return events.currentVersion(id);
      },
    });
    const handler = createQueryApiHandler({
      logger: testLogger('query'),
      readModels: {
        projections: PROJECTIONS,
        rows: new DynamoDbProjectionRows(tables.doc, tables.projectionsTable),
      },
      events: store,
      minVersionWaitMs: 150,
    });
    const result = await handler(
      httpEvent({
        routeKey: 'GET /{collection}/{id}',
        pathParameters: { collection: 'orders', id: racing },
        query: { minVersion: '1' },
      }),
    );
    // Its row is never written here: the answer is the wait running out for version 1, never
    // an answer without it.
    expect(bodyOf(result)).toMatchObject({
      error: {
        code: 'NOT_YET_CONSISTENT',
        details: { minVersion: 1, currentVersion: 0, latestVersion: 1 },
      },
    });
  });
  test('?minVersion sees the row that the projector writes while it waits', async () => {
    const lagging = `lag2-${process.pid}`;
    await createWithoutRow(lagging);
    const pending = get('GET /{collection}/{id}', { id: lagging }, { minVersion: '1' });
    await new Promise((r) => setTimeout(r, 50));
    const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
    const project = projectorHandlerFromEnv(tables.env, { logger: testLogger('projector') });
    const [created] = await store.load(lagging);
    expect((await project(streamEvent([streamRecord(created!)]))).batchItemFailures).toEqual([]);
    const result = await pending;
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ id: lagging, version: 1, status: 'draft' });
  });
});

describe('GET /{collection}', () => {
  test('by customer, newest first, paginated with a cursor until the end', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const result = await get('GET /{collection}', undefined, {
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
    // The deleted order keeps its row (status deleted) but has left the list.
    expect(seen.sort()).toEqual([id(0), id(1), id(2), id(3)].sort());
  });
  test('by status, and by customer and status', async () => {
    const submitted = bodyOf<{ items: OrderView[] }>(
      await get('GET /{collection}', undefined, { status: 'submitted', customerId: customer }),
    );
    expect(submitted.items.map((o) => o.id)).toEqual([id(3)]);
    const drafts = bodyOf<{ items: OrderView[] }>(
      await get('GET /{collection}', undefined, { status: 'draft', limit: '100' }),
    );
    expect(drafts.items.map((o) => o.id)).toEqual(expect.arrayContaining([id(0), id(1), id(2)]));
    expect(drafts.items.every((o) => o.status === 'draft')).toBe(true);
  });
  test('400 without a list parameter, with a bad status, limit or cursor', async () => {
    for (const q of [
      {},
      { status: 'lost' },
      // A deleted order is in no list.
      { status: 'deleted' },
      { status: 'draft', limit: '0' },
      { status: 'draft', limit: '101' },
      { status: 'draft', unknown: 'x' },
    ] as Record<string, string>[]) {
      const result = await get('GET /{collection}', undefined, q);
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    expect(
      bodyOf(
        await get('GET /{collection}', undefined, { status: 'draft', cursor: 'not-base64-json' }),
      ),
    ).toMatchObject({
      error: { code: 'INVALID_CURSOR' },
    });
  });
});

describe('GET /{collection}/{id}/events (audit log)', () => {
  test('pages through every event in order', async () => {
    const first = bodyOf<{ events: { version: number }[]; nextCursor: string | null }>(
      await get('GET /{collection}/{id}/events', { id: id(3) }, { limit: '2' }),
    );
    expect(first.events.map((e) => e.version)).toEqual([1, 2]);
    const second = bodyOf<{
      events: { version: number; type: string }[];
      nextCursor: string | null;
    }>(
      await get(
        'GET /{collection}/{id}/events',
        { id: id(3) },
        { limit: '2', cursor: first.nextCursor! },
      ),
    );
    expect(second.events.map((e) => e.type)).toEqual(['order/submitted']);
    expect(second.nextCursor).toBeNull();
  });
  test('the history of a deleted order stays', async () => {
    const body = bodyOf<{ events: { type: string }[] }>(
      await get('GET /{collection}/{id}/events', { id: id(4) }),
    );
    expect(body.events.map((e) => e.type)).toEqual([
      'order/created',
      'order/lineAdded',
      'order/deleted',
    ]);
  });
  test('404 for an unknown order', async () => {
    const result = await get('GET /{collection}/{id}/events', { id: 'unknown-order' });
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'order unknown-order not found' },
    });
  });
});

describe('GET /{collection}/{id}/history (time travel)', () => {
  test('the order at a version', async () => {
    const body = bodyOf(
      await get('GET /{collection}/{id}/history', { id: id(3) }, { version: '1' }),
    );
    expect(body).toMatchObject({ version: 1, state: { status: 'draft', lineCount: 0, total: 0 } });
  });
  test('a deleted order at its last version shows status deleted', async () => {
    const body = bodyOf(
      await get('GET /{collection}/{id}/history', { id: id(4) }, { version: '3' }),
    );
    expect(body).toMatchObject({ version: 3, state: { status: 'deleted' } });
  });
  test('the order at a moment', async () => {
    const events = bodyOf<{ events: { occurredAt: string }[] }>(
      await get('GET /{collection}/{id}/events', { id: id(3) }),
    );
    const at = events.events[1]!.occurredAt; // when the line was added
    const body = bodyOf(await get('GET /{collection}/{id}/history', { id: id(3) }, { at }));
    expect(body).toMatchObject({ at, state: { status: expect.any(String), lineCount: 1 } });
    const before = await get(
      'GET /{collection}/{id}/history',
      { id: id(3) },
      { at: '2000-01-01T00:00:00Z' },
    );
    expect(before.statusCode).toBe(404);
  });
  test('404 past the latest version; 400 without exactly one of version and at', async () => {
    expect(
      bodyOf(await get('GET /{collection}/{id}/history', { id: id(0) }, { version: '99' })),
    ).toMatchObject({
      error: { code: 'NOT_FOUND', details: { latestVersion: 2 } },
    });
    expect((await get('GET /{collection}/{id}/history', { id: id(0) })).statusCode).toBe(400);
    expect(
      (
        await get(
          'GET /{collection}/{id}/history',
          { id: id(0) },
          { version: '1', at: '2026-01-01T00:00:00Z' },
        )
      ).statusCode,
    ).toBe(400);
    expect(
      (await get('GET /{collection}/{id}/history', { id: id(0) }, { at: 'yesterday' })).statusCode,
    ).toBe(400);
  });
});
