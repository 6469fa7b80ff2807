/**
 * The history sweep waits for a stack's snapshot before it measures (bench/sweeps.ts): the
 * bench reads the stack's snapshots table as the command runner wrote it, and a snapshot that
 * does not come within the wait is reported as missing.
 */
import { randomUUID } from 'node:crypto';
import { ApiClient } from '../../bench/http';
import { commandAt, BENCH_ACTOR } from '../../bench/orders';
import { HttpRunner, snapshotVersionIn } from '../../bench/runners';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { TEST_CONTEXT } from '../support/permissions';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(async () => {
  await tables.drop();
});

test('given a runner that snapshots every 3 events, when the bench waits for an order’s snapshot, then it reads the version the runner stored, and reports one not stored once the wait is over', async () => {
  const run = createCommandRunner({
    store: new DynamoDbEventStore(tables.doc, tables.eventTable, {
      commandsTable: tables.commandsTable,
    }),
    snapshots: { store: new DynamoDbSnapshotStore(tables.doc, tables.snapshotsTable), every: 3 },
    aggregates: AGGREGATES,
  });
  const versionOf = snapshotVersionIn(tables.doc, tables.snapshotsTable);
  const order = `snap-${randomUUID()}`;
  expect(await versionOf(order)).toBeUndefined();
  for (let k = 0; k < 3; k++) {
    await run(
      { ...commandAt(k, BENCH_ACTOR), aggregateId: order, commandId: randomUUID() },
      TEST_CONTEXT,
    );
  }
  // Never sent: the stack's HTTP client is not what this reads.
  const stack = new ApiClient('http://127.0.0.1:9');
  const runner = new HttpRunner('coupled', 'cp', 'coupled', stack, undefined, undefined, versionOf);
  const wait = { timeoutMs: 300, pollMs: 20 };
  await expect(runner.snapshotStored!(order, 3, wait)).resolves.toBe(true);
  expect(await versionOf(order)).toBe(3);
  // None at version 4 or later: false once the wait is over.
  const since = performance.now();
  await expect(runner.snapshotStored!(order, 4, wait)).resolves.toBe(false);
  expect(performance.now() - since).toBeGreaterThanOrEqual(wait.timeoutMs);
  // A runner that cannot read its snapshots (a deployed stack) has nothing to wait for.
  expect(new HttpRunner('coupled', 'cp', 'coupled', stack).snapshotStored).toBeUndefined();
  stack.close();
});
