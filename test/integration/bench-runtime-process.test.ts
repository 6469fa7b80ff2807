/**
 * The bench runs each measured stack in its own process (bench/runtime-process.ts): it must
 * serve the real API behind its own identity provider (a token asked of it over HTTP, as the
 * bench asks), report its poller's counters across the process boundary, stop when told
 * (nothing left listening, the process gone), tell when its projector has caught up, and refuse
 * to start with a clear error. With `streamFunctions: false` (the bench's `coupled-function`)
 * it runs the coupled function and nothing that reads a stream.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_USER, requestDevToken } from '../../bench/identity';
import {
  type RuntimeProcess,
  type RuntimeProcessOptions,
  startRuntimeProcess,
  waitForProjectors,
} from '../../bench/runtime-process';
import { testEndpoint } from '../support/dynamo';
import { isAlive } from '../support/processes';

const run = process.pid;
let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  await runtime?.stop();
});

/** A runtime process on the tests' DynamoDB Local, quiet, its pollers at 20 ms. */
const startQuietRuntime = (options: Partial<RuntimeProcessOptions>) =>
  startRuntimeProcess({
    dynamoDbEndpoint: testEndpoint(),
    poller: { pollIntervalMs: 20 },
    handlerLogLevel: 'SILENT',
    quiet: true,
    ...options,
  });

/** POST /commands with a token; the answer. */
const postCommand = (url: string, token: string, command: object) =>
  fetch(`${url}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(command),
  });

test('a decoupled stack in its own process serves commands, reports its poller and stops', async () => {
  runtime = await startQuietRuntime({
    stacks: ['decoupled'],
    decoupledPort: 0,
    tablePrefix: `brp${run}`,
  });
  expect(runtime.pid).not.toBe(process.pid);
  expect(runtime.coupledUrl).toBeUndefined();
  expect(runtime.tables.decoupled?.eventTable).toBe(`brp${run}-decoupled-events`);
  expect(runtime.pollerSettings).toEqual({
    pollIntervalMs: 20,
    batchSize: 100,
    batchingWindowMs: 0,
  });

  const url = runtime.decoupledUrl!;
  const aggregateId = `brp-${run}-order`;
  // Its gateway verifies every request: no token, no entry; the token of its own IdP, in.
  const anonymous = await fetch(`${url}/orders/${aggregateId}`);
  expect(anonymous.status).toBe(401);
  const token = await requestDevToken(runtime.identityUrl, BENCH_USER);
  const auth = { authorization: `Bearer ${token}` };
  const posted = await postCommand(url, token, {
    type: 'order/create',
    aggregateId,
    payload: { customerId: 'c-1', currency: 'EUR' },
  });
  expect(posted.status).toBe(202);
  const read = await fetch(`${url}/orders/${aggregateId}?minVersion=1`, { headers: auth });
  expect(read.status).toBe(200);
  expect(await read.json()).toMatchObject({ customerId: 'c-1', version: 1 });

  const stats = await runtime.stats();
  expect(stats.coupled).toBeUndefined();
  expect(stats.decoupled?.polls).toBeGreaterThan(0);

  // Ten more events at once: once the projector has caught up, the row has them all.
  for (let line = 1; line <= 10; line++) {
    const added = await postCommand(url, token, {
      type: 'order/addLine',
      aggregateId,
      payload: { lineId: `l${line}`, sku: `sku-${line}`, quantity: 1, unitPrice: 100 },
    });
    expect(added.status).toBe(202);
  }
  await waitForProjectors([runtime], { quietMs: 200 });
  // Every event delivered once: the create and the ten lines (the row can be read before the
  // poller has counted its batch, so the counter is checked only here).
  expect((await runtime.stats()).decoupled?.delivered).toBe(11);
  const row = await fetch(`${url}/orders/${aggregateId}`, { headers: auth });
  expect(await row.json()).toMatchObject({ version: 11 });

  const { pid, identityUrl } = runtime;
  await runtime.stop();
  runtime = undefined;
  expect(isAlive(pid)).toBe(false);
  await expect(fetch(`${url}/orders/${aggregateId}`)).rejects.toThrow();
  await expect(requestDevToken(identityUrl, BENCH_USER)).rejects.toThrow();
});

test('a runtime that cannot start is reported with its error', async () => {
  const started = startRuntimeProcess({
    dynamoDbEndpoint: testEndpoint(),
    stacks: ['decoupled'],
    decoupledPort: 0,
    tablePrefix: `brp${run}-bad`,
    // Out of the poller's accepted range (local/emulators/stream-poller.ts POLLER_LIMITS).
    poller: { pollIntervalMs: 0 },
    handlerLogLevel: 'SILENT',
    quiet: true,
  });
  await expect(started).rejects.toThrow(/pollIntervalMs/);
});

test('a runtime process that dies is reported as having no counters, and stop still returns', async () => {
  const dying = await startRuntimeProcess({
    dynamoDbEndpoint: testEndpoint(),
    stacks: ['coupled'],
    coupledPort: 0,
    tablePrefix: `brp${run}-dies`,
    handlerLogLevel: 'SILENT',
    quiet: true,
  });
  expect((await dying.stats()).coupled?.polls).toBeGreaterThanOrEqual(0);
  const exited = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (!isAlive(dying.pid)) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  process.kill(dying.pid, 'SIGKILL');
  await exited;
  await expect(dying.stats()).resolves.toEqual({});
  await expect(dying.stop()).resolves.toBeUndefined();
});

test('a coupled function alone (streamFunctions: false) answers commands and runs no stream function', async () => {
  const busLog = join(mkdtempSync(join(tmpdir(), 'brpa-')), 'events.jsonl');
  runtime = await startQuietRuntime({
    stacks: ['coupled'],
    coupledPort: 0,
    tablePrefix: `brpa${run}`,
    streamFunctions: false,
    eventLogFile: busLog,
  });
  // No poller: nothing to report, nothing to wait for.
  expect(runtime.pollerSettings).toBeUndefined();
  expect(await runtime.stats()).toEqual({});

  const url = runtime.coupledUrl!;
  const token = await requestDevToken(runtime.identityUrl, BENCH_USER);
  const auth = { authorization: `Bearer ${token}` };
  const customerId = `brpa-${run}-customer`;
  const aggregateId = `brpa-${run}-order`;
  const posted = await postCommand(url, token, {
    type: 'order/create',
    aggregateId,
    payload: { customerId, currency: 'EUR' },
  });
  // The function's own work: the event and the order's row, answered fresh.
  expect(posted.status).toBe(200);
  expect(await posted.json()).toMatchObject({ version: 1 });
  const row = await fetch(`${url}/orders/${aggregateId}`, { headers: auth });
  expect(await row.json()).toMatchObject({ customerId, version: 1 });

  // The projector's work is not done in this process: the customer's summary never appears.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const summary = await fetch(`${url}/read-models/customer-summary/${customerId}`, {
    headers: auth,
  });
  expect(summary.status).toBe(404);
  // Nor the bus pipe's (it polls every 250 ms): the event never reached the bus.
  expect(readFileSync(busLog, 'utf8')).toBe('');
  rmSync(dirname(busLog), { recursive: true, force: true });
  const usage = (await runtime.usage())!;
  const projectionsTable = runtime.tables.coupled!.projectionsTable;
  // On the projections table: the command's transaction and the two reads above, nothing else
  // (a projector would read the customer's row and write it).
  const calls = Object.entries(usage.capacity[projectionsTable] ?? {}).map(([op, u]) => [
    op,
    u.calls,
  ]);
  expect(Object.fromEntries(calls)).toEqual({ TransactWriteItems: 1, GetItem: 2 });
});
