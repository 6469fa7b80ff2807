/**
 * Declared projections of orders (the order's view, and customer-summary and removed-lines, fed
 * by many orders), on DynamoDB
 * Local through the projector handler the cloud runs: duplicates, shuffled and bisected
 * batches, out-of-order delivery across aggregates, gaps, a poison event, concurrent batches.
 * Every test ends with the stored rows equal to a from-scratch fold of the event log.
 */
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { ProjectionRowStore } from '../../lambdas/core/projections/row-projection';
import { type StoredEvent, toAction } from '../../lambdas/core/events/events';
import { silentLog } from '../../lambdas/core/shared/log';
import type { IncomingRecord } from '../../lambdas/core/projections/projector';
import {
  type AnyRowProjection,
  foldRows,
  StaleRowError,
  storageName,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import { customerSummaryProjection } from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import {
  commandHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';
import { projectionsFedBy, storedRows as storedRowsIn } from '../support/projection-rows';

let tables: TestTables;
let send: ReturnType<typeof commandHandlerFromEnv>;
let project: ReturnType<typeof projectorHandlerFromEnv>;
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  project = projectorHandlerFromEnv(tables.env, { logger: testLogger('projector') });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

/** Orders with varied histories (lines added, changed, removed; submitted, cancelled, deleted). */
const ordersFor = async (prefix: string, count: number): Promise<StoredEvent[][]> => {
  const logs: StoredEvent[][] = [];
  for (let i = 0; i < count; i++) {
    const aggregateId = `${prefix}-${process.pid}-${i}`;
    const sku = (n: number) => `${prefix}-S${n % 4}`;
    const commands: Record<string, unknown>[] = [
      { type: 'order/create', payload: { customerId: `${prefix}-c${i % 3}`, currency: 'EUR' } },
      {
        type: 'order/addLine',
        payload: { lineId: 'a', sku: sku(i), quantity: i + 1, unitPrice: 100 },
      },
      {
        type: 'order/addLine',
        payload: { lineId: 'b', sku: sku(i + 1), quantity: 2, unitPrice: 50 },
      },
      ...(i % 2 === 0
        ? [
            { type: 'order/changeQuantity', payload: { lineId: 'a', quantity: i + 3 } },
            { type: 'order/removeLine', payload: { lineId: 'a' } },
          ]
        : []),
      ...(i % 3 === 0
        ? [
            {
              type: 'order/addLine',
              payload: { lineId: 'c', sku: sku(i), quantity: 7, unitPrice: 1 },
            },
            { type: 'order/removeLine', payload: { lineId: 'c' } },
          ]
        : []),
      ...(i % 4 === 1 ? [{ type: 'order/submit', payload: {} }] : []),
      ...(i % 5 === 2 ? [{ type: 'order/cancel', payload: {} }] : []),
      ...(i % 7 === 3 ? [{ type: 'order/delete', payload: {} }] : []),
    ];
    for (const c of commands) {
      const result = await send(command({ ...c, aggregateId }));
      expect(result.statusCode).toBe(202);
    }
    logs.push(await store.load(aggregateId));
  }
  return logs;
};

/** Rows of `projection` whose key starts with `prefix`, merged as the route serves them. */
const storedRows = (projection: AnyRowProjection, prefix: string) =>
  storedRowsIn(tables.doc, tables.projectionsTable, storageName(projection), projection, prefix);

const expectFold = async (prefix: string, logs: StoredEvent[][]) => {
  for (const projection of projectionsFedBy('order')) {
    const expected = foldRows(
      projection,
      logs.map((log) => log.map(toAction)),
    );
    expect(expected.size).toBeGreaterThan(0);
    expect(await storedRows(projection, prefix)).toEqual(expected);
  }
};

/** A seeded shuffle, so a failure can be replayed. */
const shuffled = <T>(items: readonly T[], seed: number): T[] => {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, i * size + size),
  );

describe('declared projections fed by many orders', () => {
  it('shuffled, duplicated, bisected and concurrent batches leave every row equal to the fold', async () => {
    const logs = await ordersFor('mix', 9);
    const records = logs.flat().map((e) => streamRecord(e));
    // Batches of 7 across aggregates in a shuffled order, three at a time, each delivered twice
    // (a retried batch), then the halves of every batch again (a bisected retry).
    const batches = chunks(shuffled(records, 7), 7);
    for (const group of chunks(batches, 3)) {
      const results = await Promise.all(
        [...group, ...group].map((batch) => project(streamEvent(batch))),
      );
      for (const result of results) expect(result.batchItemFailures).toEqual([]);
    }
    for (const batch of batches) {
      for (const half of chunks(batch, 4)) await project(streamEvent(half));
    }
    await expectFold('mix', logs);
  }, 120_000);

  it('heals gaps and out-of-order delivery across orders from the event table', async () => {
    const logs = await ordersFor('gap', 6);
    // Only each order's last event, newest order first: everything before it is read back.
    const lasts = logs.map((log) => streamRecord(log.at(-1)!)).reverse();
    expect((await project(streamEvent(lasts))).batchItemFailures).toEqual([]);
    await expectFold('gap', logs);
    // Older records arriving afterwards are duplicates: nothing changes.
    const older = logs.flatMap((log) => log.slice(0, -1).map((e) => streamRecord(e)));
    expect((await project(streamEvent(shuffled(older, 3)))).batchItemFailures).toEqual([]);
    await expectFold('gap', logs);
  });

  it('a poison event fails its records only; the others are applied, and a retry completes', async () => {
    const logs = await ordersFor('poison', 4);
    const poisoned = logs[1]!; // customer poison-c1, one order
    const bad = poisoned[2]!;
    const failing: AnyRowProjection = {
      ...customerSummaryProjection,
      reducer: (row, event, before) => {
        if (event.meta.aggregateId === bad.aggregateId && event.meta.version === bad.version)
          throw new Error('poison');
        return customerSummaryProjection.reducer(row, event, before);
      },
    };
    const incoming: IncomingRecord[] = logs
      .flat()
      .map((event) => ({ id: `${event.aggregateId}/${event.version}`, event }));
    // The deployment's projections of orders, customer-summary's reducer replaced.
    const sick = createRowProjector({
      projections: projectionsFedBy('order').map((p) =>
        p === customerSummaryProjection ? failing : p,
      ),
      rows,
      events: store,
      log: silentLog,
    });
    const outcome = await sick(incoming);
    expect(outcome.failed).toEqual(
      poisoned.filter((e) => e.version >= bad.version).map((e) => `${e.aggregateId}/${e.version}`),
    );
    // The other customers' rows are complete; poison-c1 has the order up to the poison event.
    const summaries = await storedRows(customerSummaryProjection, 'poison');
    const expected = foldRows(
      customerSummaryProjection,
      logs.map((log) => log.map(toAction)),
    );
    expect(summaries.get('poison-c0')).toEqual(expected.get('poison-c0'));
    expect(summaries.get('poison-c1')).toEqual(
      foldRows(customerSummaryProjection, [poisoned.slice(0, 2).map(toAction)]).get('poison-c1'),
    );
    // The fix is deployed and the failed records are retried through the handler.
    const retry = poisoned.filter((e) => e.version >= bad.version).map((e) => streamRecord(e));
    expect((await project(streamEvent(retry))).batchItemFailures).toEqual([]);
    await expectFold('poison', logs);
  });

  it('the rows a batch writes are read with one BatchGetItem; when that read fails, each row reads itself', async () => {
    const logs = await ordersFor('batch-read', 4);
    const reads = { get: 0, getMany: [] as number[] };
    let batchReadFails = false;
    const counting: ProjectionRowStore = {
      get: (key) => {
        reads.get++;
        return rows.get(key);
      },
      getMany: (keys) => {
        reads.getMany.push(keys.length);
        if (batchReadFails) return Promise.reject(new Error('throttled'));
        return rows.getMany(keys);
      },
      save: (row, previousRev) => rows.save(row, previousRev),
    };
    const projector = createRowProjector({
      projections: PROJECTIONS,
      rows: counting,
      events: store,
      log: silentLog,
      // Every batch reads its rows (the kept rows' own test is row-projector-cache.test.ts).
      rowCacheSize: 0,
    });
    const asIncoming = (log: readonly StoredEvent[]) =>
      log.map((event) => ({ id: `${event.aggregateId}/${event.version}`, event }));
    // The first half of every order's log: 4 order views and the customer-summary rows.
    expect((await projector(asIncoming(logs.flatMap((log) => log.slice(0, 3))))).failed).toEqual(
      [],
    );
    expect(reads.get).toBe(0);
    expect(reads.getMany).toHaveLength(1);
    expect(reads.getMany[0]).toBeGreaterThan(4);
    // The rest, with the batch read failing: every row reads itself, nothing is lost.
    batchReadFails = true;
    expect((await projector(asIncoming(logs.flatMap((log) => log.slice(3))))).failed).toEqual([]);
    expect(reads.getMany).toHaveLength(2);
    expect(reads.get).toBeGreaterThan(4);
    await expectFold('batch-read', logs);
  });

  it('concurrent batches on one row: the conditional write makes the loser re-read and redo', async () => {
    const logs = await ordersFor('race', 2);
    // Two orders, one row (a count of every event): two batches read it at the same moment.
    const [a, b] = logs as [StoredEvent[], StoredEvent[]];
    let waiting: (() => void)[] = [];
    let stale = 0;
    const racing: ProjectionRowStore = {
      get: async (key) => {
        const row = await rows.get(key);
        // Both batches read before either writes.
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length >= 2) {
            for (const r of waiting) r();
            waiting = [];
          }
          setTimeout(resolve, 50);
        });
        return row;
      },
      save: async (row, previousRev) => {
        try {
          await rows.save(row, previousRev);
        } catch (error) {
          if (error instanceof StaleRowError) stale++;
          throw error;
        }
      },
    };
    const sameRow: AnyRowProjection = {
      ...customerSummaryProjection,
      name: 'race-count',
      rowKey: () => 'everyone',
      reducer: (row: { events: number } | undefined) => ({ events: (row?.events ?? 0) + 1 }),
    };
    const projector = createRowProjector({
      projections: [sameRow],
      rows: racing,
      events: store,
      log: silentLog,
    });
    const asIncoming = (log: StoredEvent[]) =>
      log.map((event) => ({ id: `${event.aggregateId}/${event.version}`, event }));
    const outcomes = await Promise.all([projector(asIncoming(a)), projector(asIncoming(b))]);
    for (const outcome of outcomes) expect(outcome.failed).toEqual([]);
    expect(stale).toBeGreaterThan(0);
    const stored = await rows.get(storedKey(sameRow, 'everyone'));
    expect(stored?.view).toEqual(
      foldRows(sameRow, [a.map(toAction), b.map(toAction)]).get('everyone'),
    );
    expect(stored?.applied).toEqual({
      [a[0]!.aggregateId]: a.at(-1)!.version,
      [b[0]!.aggregateId]: b.at(-1)!.version,
    });
  });
});

describe('GET /read-models/{name}/{key}', () => {
  let query: ReturnType<typeof queryHandlerFromEnv>;
  beforeAll(() => {
    query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  });
  const get = (name: string, key: string) =>
    query(httpEvent({ routeKey: 'GET /read-models/{name}/{key}', pathParameters: { name, key } }));

  it('serves the rows of both new read models', async () => {
    const logs = await ordersFor('route', 3);
    await project(streamEvent(logs.flat().map((e) => streamRecord(e))));
    const summary = await get('customer-summary', 'route-c0');
    expect(summary.statusCode).toBe(200);
    expect(bodyOf(summary)).toEqual({
      readModel: 'customer-summary',
      version: 1,
      key: 'route-c0',
      row: {
        customerId: 'route-c0',
        ordersByStatus: {
          draft: 1,
          submitted: 0,
          confirmed: 0,
          rejected: 0,
          cancelled: 0,
          deleted: 0,
        },
        submittedTotals: {},
        lastActivityAt: logs[0]!.at(-1)!.occurredAt,
      },
    });
    // Order 0 removed line a (route-S0, quantity 3) and line c (route-S0, quantity 7).
    expect(bodyOf(await get('removed-lines', 'route-S0'))).toMatchObject({
      row: { sku: 'route-S0', timesRemoved: 2, quantityRemoved: 10 },
    });
  });

  it('404 for an unknown read model or row, 400 for a malformed key', async () => {
    const unknown = await get('nope', 'x');
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown)).toMatchObject({
      error: { details: { readModels: PROJECTIONS.map((p) => p.name) } },
    });
    expect((await get('removed-lines', 'never-removed')).statusCode).toBe(404);
    expect((await get('removed-lines', 'x'.repeat(65))).statusCode).toBe(400);
  });
});
