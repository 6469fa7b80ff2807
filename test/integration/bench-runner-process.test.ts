/**
 * The CPU target's pair runs in processes of their own (bench/runner-process.ts): the floor must
 * make the floor's calls on the tables it is given, and the coupled function (invoked as Lambda
 * runs it) its commands; each reports its process's CPU time and units across the process
 * boundary, passes a failure back as the in-process runner gives it, and stops when told (the
 * process gone, later commands refused with a clear error).
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type RunnerProcess, startRunnerProcess } from '../../bench/runner-process';
import type { ProcessUsage } from '../../bench/cost';
import { BENCH_ACTOR, commandAt } from '../../bench/orders';
import { createTestTables, type TestTables, testEndpoint } from '../support/dynamo';
import { isAlive } from '../support/processes';

let tables: TestTables;
let subscriptionsTable: string;
const started: RunnerProcess[] = [];
beforeAll(async () => {
  tables = await createTestTables({ stream: true, subscriptions: true });
  subscriptionsTable = tables.subscriptionsTable!;
});
afterAll(async () => {
  await Promise.all(started.map((floor) => floor.stop()));
  await tables.drop();
});

const start = async (
  eventTable = tables.eventTable,
  kind: 'floor-coupled' | 'coupled' = 'floor-coupled',
) => {
  const floor = await startRunnerProcess({
    dynamoDbEndpoint: testEndpoint(),
    name: kind === 'coupled' ? 'coupled-function-invoked' : 'floor-coupled-alone',
    tag: 'fca',
    kind,
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

/** The versions of `order`'s events in the event table. */
const eventVersions = async (order: string) => {
  const { Items } = await tables.doc.send(
    new QueryCommand({
      TableName: tables.eventTable,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: { ':id': order },
    }),
  );
  return Items?.map((e) => e.version);
};

/** The write units a process's meter counted on the event table. */
const eventTableWrites = (usage: ProcessUsage) =>
  Object.values(usage.capacity[tables.eventTable] ?? {}).reduce((sum, u) => sum + u.writeUnits, 0);

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
  expect(await eventVersions(order)).toEqual([1, 2, 3]);

  // Its own process's figures: CPU time spent, the transactions' write units metered.
  const after = (await floor.probe.usage())!;
  expect(after.cpuMicros).toBeGreaterThan(before.cpuMicros);
  expect(eventTableWrites(after)).toBeGreaterThan(eventTableWrites(before));

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

test('given the coupled function in a process of its own, when it is handed three commands, then it writes their events, answers with the fresh row, and reports its CPU time and units', async () => {
  const invoked = await start(tables.eventTable, 'coupled');
  expect(invoked.pid).not.toBe(process.pid);
  expect(invoked.probe.process).toBe(`function process ${invoked.pid}`);
  const before = (await invoked.probe.usage())!;

  const order = `cfi-${randomUUID()}`;
  for (let k = 0; k < 3; k++) {
    const outcome = await invoked.runner.execute(order, commandAt(k, BENCH_ACTOR), {
      visible: true,
    });
    // The coupled answer carries the fresh row: visible when answered.
    expect(outcome).toMatchObject({ ok: true, status: 200, version: k + 1, retries: 0 });
    expect(outcome.visibleMs).toBe(outcome.ackMs);
  }
  expect(await eventVersions(order)).toEqual([1, 2, 3]);
  // The handler's own client is metered: its transactions' write units reach the probe.
  const after = (await invoked.probe.usage())!;
  expect(after.cpuMicros).toBeGreaterThan(before.cpuMicros);
  expect(eventTableWrites(after)).toBeGreaterThan(eventTableWrites(before));

  // A domain refusal is an outcome, read from the answer as the HTTP runner reads it.
  const refused = await invoked.runner.execute(order, commandAt(1, BENCH_ACTOR), {
    visible: false,
    expectedVersion: 1,
  });
  expect(refused).toMatchObject({ ok: false, status: 409, code: 'VERSION_CONFLICT' });

  await invoked.stop();
  expect(isAlive(invoked.pid)).toBe(false);
  await expect(
    invoked.runner.execute(order, commandAt(3, BENCH_ACTOR), { visible: false }),
  ).rejects.toThrow(`the function process ${invoked.pid} has exited`);
});

test('given tables without a subscriptions table, when the coupled function process starts, then it fails naming what is missing', async () => {
  await expect(
    startRunnerProcess({
      dynamoDbEndpoint: testEndpoint(),
      name: 'coupled-function-invoked',
      tag: 'cfi',
      kind: 'coupled',
      tables: {
        eventTable: tables.eventTable,
        projectionsTable: tables.projectionsTable,
      },
    }),
  ).rejects.toThrow('the coupled function needs a subscriptionsTable');
});
