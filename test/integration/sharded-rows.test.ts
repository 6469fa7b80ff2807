/**
 * Sharded rows (RowProjection `shards`): a row fed by more aggregates than one DynamoDB item can
 * hold the checkpoints of (400 KB at ~70 bytes an aggregate: under 6,000) stays writable when
 * sharded, and is served as the merge of its items; the same row unsharded stops being writable.
 * Rows on DynamoDB Local (the real item size limit); the event log in memory, for speed.
 */
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { silentLog } from '../../lambdas/core/shared/log';
import type { IncomingRecord } from '../../lambdas/core/projections/projector';
import {
  type AnyRowProjection,
  itemKeys,
  mergeItems,
  shardOf,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import { type RemovedLines, removedLinesProjection } from '../../lambdas/domain/order/projections';
import { createTestTables, type TestTables } from '../support/dynamo';
import { stamp } from '../../lambdas/core/given';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

/** Orders whose ids are as long as ids may be (64): the checkpoint map's worst case. */
const ORDERS = 6_500;
const SKU = 'HOT';
const idOf = (i: number) => `o${String(i).padStart(6, '0')}-`.padEnd(64, 'x');

test('a row fed by more orders than one item can hold stays writable when sharded', async () => {
  const events = new MemoryEventStore();
  const lastEvents = [];
  for (let i = 0; i < ORDERS; i++) {
    const log = stamp(idOf(i), [
      { type: 'order/created', payload: { customerId: 'c', currency: 'EUR' } },
      {
        type: 'order/lineAdded',
        payload: { lineId: 'a', sku: SKU, quantity: 1 + (i % 3), unitPriceMinor: 5 },
      },
      { type: 'order/lineRemoved', payload: { lineId: 'a' } },
    ]);
    await events.append(log);
    lastEvents.push(log.at(-1)!);
  }
  const records: IncomingRecord[] = lastEvents.map((event) => ({
    id: `${event.aggregateId}/${event.version}`,
    event,
  }));
  const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
  const projectAll = async (projection: AnyRowProjection) => {
    const project = createRowProjector({ projections: [projection], rows, events, log: silentLog });
    let failed = 0;
    for (let i = 0; i < records.length; i += 500) {
      failed += (await project(records.slice(i, i + 500))).failed.length;
    }
    return failed;
  };
  const expected = {
    sku: SKU,
    timesRemoved: ORDERS,
    quantityRemoved: Array.from({ length: ORDERS }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b),
  };

  // Sharded (removed-lines as deployed): every record applied, once.
  expect(await projectAll(removedLinesProjection)).toBe(0);
  const keys = itemKeys(removedLinesProjection, SKU);
  const items = await rows.getMany(keys);
  expect(items).toHaveLength(removedLinesProjection.shards!);
  expect(
    mergeItems(
      removedLinesProjection,
      items.map((item) => item.view as RemovedLines),
    ),
  ).toEqual(expected);
  // Each item holds only its shard's orders; together more than one item could hold.
  for (const item of items) {
    const shard = Number(item.key.split('#').at(-1));
    const fed = Object.keys(item.applied);
    expect(fed.every((id) => shardOf(id, removedLinesProjection.shards!) === shard)).toBe(true);
    expect(JSON.stringify(item).length).toBeLessThan(100 * 1024);
  }
  const total = items.reduce((sum, item) => sum + JSON.stringify(item.applied).length, 0);
  expect(total).toBeGreaterThan(400 * 1024);

  // The same row unsharded: once its checkpoints pass 400 KB it cannot be written any more.
  const unsharded: AnyRowProjection = {
    ...removedLinesProjection,
    name: 'removed-lines-unsharded',
    shards: 1,
  };
  expect(await projectAll(unsharded)).toBeGreaterThan(0);
  const single = await rows.get(storedKey(unsharded, SKU));
  expect(Object.keys(single!.applied).length).toBeLessThan(ORDERS);
}, 300_000);

test('a sharded projection without merge, or with a bad shard count, is refused at start', () => {
  const { merge: _merge, ...noMerge } = removedLinesProjection;
  const make = (projection: AnyRowProjection) => () =>
    createRowProjector({
      projections: [projection],
      rows: new DynamoDbProjectionRows(tables.doc, tables.projectionsTable),
      events: new MemoryEventStore(),
      log: silentLog,
    });
  expect(make(noMerge as AnyRowProjection)).toThrow(/needs merge/);
  expect(make({ ...removedLinesProjection, shards: 0 })).toThrow(/from 1 to 100/);
});
