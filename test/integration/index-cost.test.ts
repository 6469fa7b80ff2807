/**
 * `byStatus` that scales (issue 11, item 6), on DynamoDB Local: its entries hold keys only and
 * are sorted by `createdAt`, so an event that leaves the status alone writes nothing to it, and
 * the lists still answer whole rows. The write units are DynamoDB Local's own report
 * (ReturnConsumedCapacity INDEXES), old and new table side by side (bench/probes/index-cost.ts).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { rowFor } from '../../lambdas/core/projections/projection';
import { type OrderView, orderProjection, ORDER_INDEXES } from '../../lambdas/domain/order';
import { queryHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { measureIndexCost } from '../../bench/probes/index-cost';
import { createTestTables, type TestTables, testEndpoint } from '../support/dynamo';
import { bodyOf, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

const row = (
  id: string,
  version: number,
  status: OrderView['status'],
  lines: number,
): OrderView => {
  const at = (v: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, v)).toISOString();
  return {
    id,
    customerId: 'ic-customer',
    currency: 'EUR',
    status,
    lines: Array.from({ length: lines }, (_, i) => ({
      lineId: `l${i}`,
      sku: `sku-${i}`,
      quantity: 1,
      unitPrice: 100,
      amount: 100,
    })),
    lineCount: lines,
    total: 100 * lines,
    createdAt: at(1),
    updatedAt: at(version),
    version,
  };
};

/** The write units the byStatus index reported for one put of `item`. */
const byStatusUnits = async (item: OrderView) => {
  const out = await tables.doc.send(
    new PutCommand({
      TableName: tables.readModelTable,
      Item: rowFor(orderProjection, item),
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  return (
    out.ConsumedCapacity?.GlobalSecondaryIndexes?.[ORDER_INDEXES.byStatus.indexName]
      ?.CapacityUnits ?? 0
  );
};

test('byStatus is written when the status changes, never by an event that leaves it alone', async () => {
  const id = `ic-${process.pid}`;
  expect(await byStatusUnits(row(id, 1, 'draft', 0))).toBeGreaterThan(0); // the entry appears
  // Lines added: updatedAt and the row's size change, its byStatus keys do not.
  for (let v = 2; v <= 6; v++) expect(await byStatusUnits(row(id, v, 'draft', v * 10))).toBe(0);
  expect(await byStatusUnits(row(id, 7, 'submitted', 60))).toBeGreaterThan(0); // it moves
});

test('a status list still answers whole rows, newest order first, equal to the rows themselves', async () => {
  const query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  for (let i = 0; i < 3; i++) {
    const r = {
      ...row(`ic-list-${process.pid}-${i}`, 3, 'cancelled', 2),
      createdAt: `2026-02-0${i + 1}T00:00:00.000Z`,
    };
    await tables.doc.send(new PutCommand({ TableName: tables.readModelTable, Item: r }));
  }
  const page = bodyOf<{ items: OrderView[] }>(
    await query(httpEvent({ routeKey: 'GET /orders', query: { status: 'cancelled' } })),
  );
  const ours = page.items.filter((o) => o.id.startsWith(`ic-list-${process.pid}-`));
  expect(ours.map((o) => o.id)).toEqual([2, 1, 0].map((i) => `ic-list-${process.pid}-${i}`));
  for (const order of ours) {
    const one = await query(
      httpEvent({ routeKey: 'GET /orders/{id}', pathParameters: { id: order.id } }),
    );
    expect(order).toEqual(bodyOf(one));
    expect(order.lines).toHaveLength(2);
  }
});

test('the probe: fewer write units per event than the old table, for the same rows, as DynamoDB Local reports them', async () => {
  const figures = await measureIndexCost({ endpoint: testEndpoint(), orders: 6, lines: 10 });
  // DynamoDB Local reports index capacity (the old byStatus is written on every event).
  expect(figures.before.indexes.byStatus).toBeGreaterThan(0);
  expect(figures.after.indexes.byStatus ?? 0).toBeLessThan(figures.before.indexes.byStatus!);
  expect(figures.after.total).toBeLessThan(figures.before.total);
  // byCustomer and the table itself are unchanged.
  expect(figures.after.table).toBe(figures.before.table);
  expect(figures.after.indexes.byCustomer).toBe(figures.before.indexes.byCustomer);
  expect(figures.draftPartitionWritesPerEvent.after).toBeLessThan(
    figures.draftPartitionWritesPerEvent.before,
  );
});
