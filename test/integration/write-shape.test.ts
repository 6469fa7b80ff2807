/**
 * The write each command sends, on DynamoDB Local: docs/local-runtime.md, "`--data-dir` and hard
 * kills" says which commands a SIGKILL of DynamoDB Local can lose (those written as
 * TransactWriteItems), and this test keeps that sentence true; the write shape is also what a
 * command costs (docs/decisions/single-item-appends.md). A single-event command is one PutItem
 * (no ConditionCheck: the runner read version - 1; no marker: markers are written before a
 * snapshot); several events are one transaction; the coupled stack's transaction also updates
 * the aggregate's view item in the projections table. The reads: a runner's next command to an
 * aggregate reads only the events after the head it kept (docs/decisions/runner-keeps-heads.md).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { snapshotKeyOf } from '../../lambdas/core/command/snapshots';
import { orderAggregate } from '../../lambdas/domain/order';
import { namedCallsClient, readsOf } from '../support/named-calls';
import { savedSnapshot } from '../support/snapshots';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { appendWithViews } from '../../lambdas/handlers/coupled-api';
import { COLLECTIONS } from '../../lambdas/handlers/deployment';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { TEST_CONTEXT } from '../support/permissions';
import { stamp } from '../../lambdas/core/given';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

/** A client that records each write it sends (its command's name and input). */
const spyClient = () => {
  const writes: { readonly name: string; readonly input: Record<string, unknown> }[] = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      if (/Put|Transact|Update/.test(command.constructor.name))
        writes.push({ name: command.constructor.name, input: command.input });
      return tables.doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, writes };
};

test('a single-event command writes one PutItem, first or not; several events one TransactWriteItems', async () => {
  const spy = spyClient();
  const store = new DynamoDbEventStore(spy.client, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  const run = createCommandRunner({ store, aggregates: AGGREGATES });
  const id = `shape-${randomUUID()}`;
  const send = (type: string, payload: unknown) =>
    run({ type, aggregateId: id, payload, commandId: randomUUID() }, TEST_CONTEXT);
  const writes = () => spy.writes.map((w) => w.name);

  await send('order/create', { customerId: 'c', currency: 'EUR' });
  expect(writes()).toEqual(['PutCommand']);
  await send('order/addLine', { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 });
  expect(writes()).toEqual(['PutCommand', 'PutCommand']);
  expect(await store.currentVersion(id)).toBe(2);
  // A fresh runner (another function instance) reads the aggregate first: still one PutItem.
  const other = createCommandRunner({
    store: new DynamoDbEventStore(spy.client, tables.eventTable),
    aggregates: AGGREGATES,
  });
  await other(
    {
      type: 'order/addLine',
      aggregateId: id,
      payload: { lineId: 'b', sku: 's', quantity: 1, unitPrice: 1 },
      commandId: randomUUID(),
    },
    TEST_CONTEXT,
  );
  expect(writes()).toEqual(['PutCommand', 'PutCommand', 'PutCommand']);
  // Several events (a decide that returns two): all or nothing, so one transaction.
  const before = spy.writes.length;
  await store.append(
    stamp(
      id,
      [
        { type: 'order/submitted', payload: {} },
        { type: 'order/cancelled', payload: {} },
      ],
      3,
    ),
  );
  expect(spy.writes.slice(before).map((w) => w.name)).toEqual(['TransactWriteCommand']);
});

test('a command after the first through one runner reads only the events after its head; past a snapshot, the marker beside them', async () => {
  const spy = namedCallsClient(tables.doc, {
    [tables.eventTable]: 'events',
    [tables.snapshotsTable]: 'snapshot',
    [tables.commandsTable]: 'marker',
  });
  // The reads (not the writes: the events, a snapshot and its markers).
  const reads = () => readsOf(spy.calls);
  const run = createCommandRunner({
    store: new DynamoDbEventStore(spy.client, tables.eventTable, {
      commandsTable: tables.commandsTable,
    }),
    snapshots: { store: new DynamoDbSnapshotStore(spy.client, tables.snapshotsTable), every: 4 },
    aggregates: AGGREGATES,
  });
  const id = `heads-${randomUUID()}`;
  const send = (type: string, payload: unknown) =>
    run({ type, aggregateId: id, payload, commandId: randomUUID() }, TEST_CONTEXT);
  const quantity = (q: number) => send('order/changeQuantity', { lineId: 'a', quantity: q });

  await send('order/create', { customerId: 'c', currency: 'EUR' });
  await send('order/addLine', { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 });
  await quantity(2);
  expect(reads()).toEqual(['events: newest 4', 'events: after 1', 'events: after 2']);
  spy.calls.length = 0;
  await quantity(3); // version 4: a snapshot is due, the head dropped
  // Saved after the answer, within its budget: a busy machine may store it later (read here
  // past the spy: these reads are not the runner's).
  const unspied = new DynamoDbSnapshotStore(tables.doc, tables.snapshotsTable);
  expect(await savedSnapshot(unspied, id, snapshotKeyOf(orderAggregate), 4)).toBeDefined();
  await quantity(4); // reads first: the newest 4 reach the snapshot
  await quantity(5); // a head past the snapshot: the events since, the marker beside
  expect(reads()).toEqual([
    'events: after 3',
    'events: newest 4',
    'snapshot: Get',
    'marker: Get',
    'events: after 5',
    'marker: Get',
  ]);
  expect(
    await run(
      {
        type: 'order/changeQuantity',
        aggregateId: id,
        payload: { lineId: 'a', quantity: 9 },
        commandId: randomUUID(),
      },
      TEST_CONTEXT,
    ),
  ).toMatchObject({ version: 7 });
});

test("the coupled command's transaction also updates its view item in the projections table, and writes nothing else", async () => {
  const spy = spyClient();
  const store = new DynamoDbEventStore(spy.client, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  const rows = new DynamoDbProjectionRows(spy.client, tables.projectionsTable);
  const run = createCommandRunner({
    store,
    aggregates: AGGREGATES,
    append: appendWithViews(store, { collections: COLLECTIONS, rows }),
  });
  const id = `shape-${randomUUID()}`;
  await run(
    {
      type: 'order/create',
      aggregateId: id,
      payload: { customerId: 'c', currency: 'EUR' },
      commandId: randomUUID(),
    },
    TEST_CONTEXT,
  );
  expect(spy.writes.map((w) => w.name)).toEqual(['TransactWriteCommand']);
  const items = spy.writes[0]!.input.TransactItems as Record<string, { TableName: string }>[];
  const onProjections = items.filter((item) =>
    Object.values(item).some((write) => write.TableName === tables.projectionsTable),
  );
  // An Update (no read before it): the row, its checkpoint and a new revision.
  expect(onProjections).toEqual([
    {
      Update: expect.objectContaining({ Key: { key: storedKey(orderViewProjection, id) } }),
    },
  ]);
  expect(await rows.get(storedKey(orderViewProjection, id))).toMatchObject({
    view: { id, status: 'draft', version: 1 },
    applied: { [id]: 1 },
    rev: 1,
  });
});

test('docs/local-runtime.md says so', () => {
  const doc = readFileSync(join(__dirname, '../../docs/local-runtime.md'), 'utf8');
  expect(doc.replace(/\s+/g, ' ')).toContain('A decoupled single-event command is one `PutItem`');
});
