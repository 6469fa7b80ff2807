/**
 * The bench's floor makes the DynamoDB calls the command runner makes (docs/benchmark.md,
 * "Method"): the first command of an order reads its newest events, the next ones only the
 * events after the head it kept (docs/decisions/runner-keeps-heads.md); the coupled floor writes
 * the event and the row in one transaction, then reads the row's subscribers as the coupled
 * function does to push. A floor that drifted from the runner would make every `ack/floor` and
 * `CPU/floor` ratio compare unlike things.
 */
import { randomUUID } from 'node:crypto';
import { FLOOR_VIEW, FloorRunner } from '../../bench/runners';
import { BENCH_ACTOR, commandAt } from '../../bench/orders';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { namedCallsClient, readsOf } from '../support/named-calls';
import { TEST_CONTEXT } from '../support/permissions';

let tables: TestTables;
let subscriptionsTable: string;
beforeAll(async () => {
  tables = await createTestTables({ stream: true, subscriptions: true });
  subscriptionsTable = tables.subscriptionsTable!;
});
afterAll(async () => {
  await tables.drop();
});

const callSpy = () =>
  namedCallsClient(tables.doc, {
    [tables.eventTable]: 'events',
    [tables.snapshotsTable]: 'snapshot',
    [tables.commandsTable]: 'marker',
    [subscriptionsTable]: 'subscribers',
  });

const floorTables = () => ({
  eventTable: tables.eventTable,
  projectionsTable: tables.projectionsTable,
  snapshotsTable: tables.snapshotsTable,
  commandsTable: tables.commandsTable,
  subscriptionsTable,
});

test('given three commands to one order, then the coupled floor reads as the runner does: first the newest events, then only the events after its head', async () => {
  const floorSpy = callSpy();
  const floor = new FloorRunner(
    'floor-coupled',
    'fc',
    'floor-coupled',
    floorSpy.client,
    floorTables(),
    FLOOR_VIEW,
  );
  const runnerSpy = callSpy();
  const run = createCommandRunner({
    store: new DynamoDbEventStore(runnerSpy.client, tables.eventTable, {
      commandsTable: tables.commandsTable,
    }),
    snapshots: { store: new DynamoDbSnapshotStore(runnerSpy.client, tables.snapshotsTable) },
    aggregates: AGGREGATES,
  });
  const floorOrder = `floor-${randomUUID()}`;
  const order = `runner-${randomUUID()}`;
  for (let k = 0; k < 3; k++) {
    const outcome = await floor.execute(floorOrder, commandAt(k, BENCH_ACTOR), { visible: true });
    expect(outcome).toMatchObject({ ok: true, version: k + 1 });
    await run(
      { ...commandAt(k, BENCH_ACTOR), aggregateId: order, commandId: randomUUID() },
      TEST_CONTEXT,
    );
  }
  expect(readsOf(floorSpy.calls)).toEqual([
    'events: newest 32',
    'events: after 1',
    'events: after 2',
  ]);
  expect(readsOf(floorSpy.calls)).toEqual(readsOf(runnerSpy.calls));
  expect(floorSpy.calls.slice(0, 3)).toEqual([
    'events: newest 32',
    'TransactWrite',
    'subscribers: Query',
  ]);
});

test('given a floor that never wrote the order (another instance), then its first command reads the newest events', async () => {
  const order = `floor-${randomUUID()}`;
  const first = callSpy();
  const writer = new FloorRunner(
    'floor-decoupled',
    'fd',
    'floor-decoupled',
    first.client,
    floorTables(),
    FLOOR_VIEW,
  );
  await writer.execute(order, commandAt(0, BENCH_ACTOR), { visible: false });
  await writer.execute(order, commandAt(1, BENCH_ACTOR), { visible: false });
  expect(first.calls).toEqual([
    'events: newest 32',
    'events: Put',
    'events: after 1',
    'events: Put',
  ]);
  const second = callSpy();
  const fresh = new FloorRunner(
    'floor-decoupled',
    'fd',
    'floor-decoupled',
    second.client,
    floorTables(),
    FLOOR_VIEW,
  );
  expect(await fresh.execute(order, commandAt(2, BENCH_ACTOR), { visible: false })).toMatchObject({
    ok: true,
    version: 3,
  });
  expect(second.calls).toEqual(['events: newest 32', 'events: Put']);
});
