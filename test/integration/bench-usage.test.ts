/**
 * The bench reads each stack process's CPU time and DynamoDB meter over IPC
 * (bench/runtime-process.ts `usage`): a command sent to the stack shows up in the meter of that
 * process, as the event table's write and the projector's, with the units DynamoDB reports.
 */
import { capacitySince, type CapacitySnapshot } from '../../lambdas/core/shared/consumed-capacity';
import { BENCH_USER, requestDevToken } from '../../bench/identity';
import {
  type RuntimeProcess,
  startRuntimeProcess,
  waitForProjectors,
} from '../../bench/runtime-process';
import { testEndpoint } from '../support/dynamo';

let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  await runtime?.stop();
});

const writeUnitsOn = (snapshot: CapacitySnapshot, table: string) =>
  Object.values(snapshot[table] ?? {}).reduce((sum, usage) => sum + usage.writeUnits, 0);

test('given a stack in its own process, when a command runs, then its meter and CPU time grow', async () => {
  runtime = await startRuntimeProcess({
    dynamoDbEndpoint: testEndpoint(),
    stacks: ['decoupled'],
    decoupledPort: 0,
    tablePrefix: `bu${process.pid}`,
    poller: { pollIntervalMs: 20 },
    handlerLogLevel: 'SILENT',
    quiet: true,
  });
  const tables = runtime.tables.decoupled!;
  const token = await requestDevToken(runtime.identityUrl, BENCH_USER);
  const before = (await runtime.usage())!;

  const posted = await fetch(`${runtime.decoupledUrl!}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      type: 'order/create',
      aggregateId: `bu-${process.pid}-order`,
      payload: { customerId: 'c-1', currency: 'EUR' },
    }),
  });
  expect(posted.status).toBe(202);
  await waitForProjectors([runtime], { quietMs: 200 });
  const after = (await runtime.usage())!;

  const consumed = capacitySince(after.capacity, before.capacity);
  // One small event: one PutItem of at most 1 KB.
  expect(consumed[tables.eventTable]?.PutItem).toMatchObject({ calls: 1, writeUnits: 1 });
  // The projector wrote the order's row (and any other declared projection's).
  expect(writeUnitsOn(consumed, tables.projectionsTable)).toBeGreaterThanOrEqual(1);
  expect(after.cpuMicros).toBeGreaterThan(before.cpuMicros);
});
