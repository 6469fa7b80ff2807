/**
 * The CPU target's floor runs in a process of its own (bench/floor-process.ts): it must make the
 * floor's calls on the tables it is given, report its process's CPU time and units across the
 * process boundary, pass a failure back as the in-process floor gives it, and stop when told
 * (the process gone, later commands refused with a clear error).
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type FloorProcess, startFloorProcess } from '../../bench/floor-process';
import { BENCH_ACTOR, commandAt } from '../../bench/orders';
import { createTestTables, type TestTables, testEndpoint } from '../support/dynamo';
import { isAlive } from '../support/processes';

let tables: TestTables;
let subscriptionsTable: string;
const started: FloorProcess[] = [];
beforeAll(async () => {
  tables = await createTestTables({ stream: true, subscriptions: true });
  subscriptionsTable = tables.subscriptionsTable!;
});
afterAll(async () => {
  await Promise.all(started.map((floor) => floor.stop()));
  await tables.drop();
});

const start = async (eventTable = tables.eventTable) => {
  const floor = await startFloorProcess({
    dynamoDbEndpoint: testEndpoint(),
    name: 'floor-coupled-alone',
    tag: 'fca',
    kind: 'floor-coupled',
    tables: {
      eventTable,
      projectionsTable: tables.projectionsTable,
      snapshotsTable: tables.snapshotsTable,
      commandsTable: tables.commandsTable,
      subscriptionsTable,
    },
  });
  started.push(floor);
  return floor;
};

test('given a floor process, when it is sent three commands, then it writes them, reports its CPU time and units, and stops when told', async () => {
  const floor = await start();
  expect(floor.pid).not.toBe(process.pid);
  expect(floor.probe.tables[tables.eventTable]).toBe('event');
  const before = (await floor.probe.usage())!;

  const order = `fca-${randomUUID()}`;
  for (let k = 0; k < 3; k++) {
    const outcome = await floor.runner.execute(order, commandAt(k, BENCH_ACTOR), {
      visible: false,
    });
    expect(outcome).toMatchObject({ ok: true, status: 200, version: k + 1 });
  }
  const { Items } = await tables.doc.send(
    new QueryCommand({
      TableName: tables.eventTable,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: { ':id': order },
    }),
  );
  expect(Items?.map((e) => e.version)).toEqual([1, 2, 3]);

  // Its own process's figures: CPU time spent, the transactions' write units metered.
  const after = (await floor.probe.usage())!;
  expect(after.cpuMicros).toBeGreaterThan(before.cpuMicros);
  const writes = (snapshot: typeof after.capacity) =>
    Object.values(snapshot[tables.eventTable] ?? {}).reduce((sum, u) => sum + u.writeUnits, 0);
  expect(writes(after.capacity)).toBeGreaterThan(writes(before.capacity));

  await floor.stop();
  expect(isAlive(floor.pid)).toBe(false);
  await expect(
    floor.runner.execute(order, commandAt(3, BENCH_ACTOR), { visible: false }),
  ).rejects.toThrow(`the floor process ${floor.pid} has exited`);
  expect(await floor.probe.usage()).toBeUndefined();
});

test('given a floor process on a table that does not exist, when it is sent work, then the bench gets the failure as the in-process floor gives it, and the process serves on', async () => {
  const floor = await start(`missing-${randomUUID().slice(0, 8)}`);
  const order = `fca-${randomUUID()}`;
  // A command's failure is its outcome, as from the floor in the bench's process.
  expect(
    await floor.runner.execute(order, commandAt(0, BENCH_ACTOR), { visible: false }),
  ).toMatchObject({ ok: false, code: 'ResourceNotFoundException' });
  // Anything else that throws in the process is thrown in the bench, naming where it came from.
  await expect(floor.runner.prepare(order, 3)).rejects.toThrow(
    /^the floor process: .*non-existent table/,
  );
  expect(await floor.probe.usage()).toMatchObject({ cpuMicros: expect.any(Number) });
});
