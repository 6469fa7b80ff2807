/**
 * The order view's status list that scales (issue 11, item 6), on DynamoDB Local: its slot
 * (`keys1`) holds keys only and is sorted by `createdAt`, so an event that leaves the status alone
 * writes nothing to it, while the customer list (`rows1`, whole rows) is rewritten on every event;
 * the status list still answers whole rows. The write units are DynamoDB Local's own report
 * (ReturnConsumedCapacity INDEXES) on the projections table, for both writers of the view: the
 * row projector (PutItem) and the coupled command (UpdateItem in its transaction).
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storageName, storedKey } from '../../lambdas/core/projections/row-projection';
import { listAttributes, listSlotsOf } from '../../lambdas/core/projections/row-lists';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
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

/** The index of the slot a list of the order view takes. */
const slotOf = (param: string) =>
  listSlotsOf(orderViewProjection).find(({ list }) => list.param === param)!.slot;

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

type Consumed = { GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> };

/** Stores `view` as one of the view's writers does; answers what DynamoDB consumed. */
type Writer = (view: OrderView) => Promise<Consumed | undefined>;

/** The row projector: one PutItem of the whole item (./row-projector.ts, applyPendingToRow). */
const projectorPut: Writer = async (view) =>
  (
    await tables.doc.send(
      new PutCommand({
        TableName: tables.projectionsTable,
        Item: {
          key: storedKey(orderViewProjection, view.id),
          view,
          applied: { [view.id]: view.version },
          rev: view.version,
          ...listAttributes(orderViewProjection, storageName(orderViewProjection), view),
        },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    )
  ).ConsumedCapacity;

/** The coupled command: the Update its transaction carries (writeViewItem), sent alone. */
const coupledUpdate: Writer = async (view) => {
  const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
  const { Update } = rows.writeViewItem(orderViewProjection, view.id, view, view.version) as {
    Update: ConstructorParameters<typeof UpdateCommand>[0];
  };
  return (
    await tables.doc.send(new UpdateCommand({ ...Update, ReturnConsumedCapacity: 'INDEXES' }))
  ).ConsumedCapacity;
};

/** The write units each list's index reported for one write of `view`. */
const listUnits = async (write: Writer, view: OrderView) => {
  const indexes = (await write(view))?.GlobalSecondaryIndexes ?? {};
  const units = (param: string) => indexes[slotOf(param).indexName]?.CapacityUnits ?? 0;
  return { status: units('status'), customerId: units('customerId') };
};

test.each([
  ['the row projector (PutItem)', 'projector', projectorPut],
  ['the coupled command (UpdateItem)', 'coupled', coupledUpdate],
])(
  '%s: the status list is written when the status changes, never by an event that leaves it alone; the customer list on every event',
  async (_writer, name, write) => {
    const id = `ic-${process.pid}-${name}`;
    const created = await listUnits(write, row(id, 1, 'draft', 0));
    // Both entries appear.
    expect(created.status).toBeGreaterThan(0);
    expect(created.customerId).toBeGreaterThan(0);
    // Lines added: updatedAt and the row's size change, its status list keys do not.
    for (let v = 2; v <= 6; v++) {
      const units = await listUnits(write, row(id, v, 'draft', v * 10));
      expect({ v, status: units.status }).toEqual({ v, status: 0 });
      expect(units.customerId).toBeGreaterThan(0);
    }
    // It moves to the submitted partition.
    expect((await listUnits(write, row(id, 7, 'submitted', 60))).status).toBeGreaterThan(0);
    // Deleted: it leaves both lists (each entry deleted).
    const deleted = await listUnits(write, row(id, 8, 'deleted', 60));
    expect(deleted.status).toBeGreaterThan(0);
    expect(deleted.customerId).toBeGreaterThan(0);
  },
);

test('a status list still answers whole rows, newest order first, equal to the rows themselves', async () => {
  const query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  for (let i = 0; i < 3; i++) {
    await projectorPut({
      ...row(`ic-list-${process.pid}-${i}`, 3, 'cancelled', 2),
      createdAt: `2026-02-0${i + 1}T00:00:00.000Z`,
    });
  }
  const page = bodyOf<{ items: OrderView[] }>(
    await query(
      httpEvent({
        routeKey: 'GET /{collection}',
        pathParameters: { collection: 'orders' },
        query: { status: 'cancelled' },
      }),
    ),
  );
  const ours = page.items.filter((o) => o.id.startsWith(`ic-list-${process.pid}-`));
  expect(ours.map((o) => o.id)).toEqual([2, 1, 0].map((i) => `ic-list-${process.pid}-${i}`));
  for (const order of ours) {
    const one = await query(
      httpEvent({
        routeKey: 'GET /{collection}/{id}',
        pathParameters: { collection: 'orders', id: order.id },
      }),
    );
    expect(order).toEqual(bodyOf(one));
    expect(order.lines).toHaveLength(2);
  }
});

test('the probe: fewer write units per event than a status list of rows, for the same views, as DynamoDB Local reports them', async () => {
  const figures = await measureIndexCost({ endpoint: testEndpoint(), orders: 6, lines: 10 });
  // DynamoDB Local reports index capacity (a status list of rows is written on every event).
  expect(figures.before.indexes.status).toBeGreaterThan(0);
  expect(figures.after.indexes.status ?? 0).toBeLessThan(figures.before.indexes.status!);
  expect(figures.after.total).toBeLessThan(figures.before.total);
  // The customer list and the table itself are unchanged.
  expect(figures.after.table).toBe(figures.before.table);
  expect(figures.after.indexes.customerId).toBe(figures.before.indexes.customerId);
  expect(figures.draftPartitionWritesPerEvent.after).toBeLessThan(
    figures.draftPartitionWritesPerEvent.before,
  );
});
