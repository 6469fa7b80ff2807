/**
 * Redrive, end to end on DynamoDB Local: the local stream poller (maxRetries 0) sends a batch
 * the projector cannot apply (a poison event for the read models, a failing store for the order's
 * view row) to
 * the on-failure file; the rows stay stale; `npm run redrive` (a real child process, the
 * deployment's real projector) repairs them from the event table and takes the entry out of the
 * file, so a rerun has nothing to do. `npm run reproject` does the same for named aggregates.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { toAction } from '../../lambdas/core/events/events';
import {
  type AnyRowProjection,
  foldRows,
  storageName,
  storedKey,
  type StoredRow,
} from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import type { OrderView } from '../../lambdas/domain/order';
import {
  orderViewProjection,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { createProjectorHandler } from '../../lambdas/handlers/projector';
import { commandHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { startStreamPoller } from '../../local/emulators/stream-poller';
import { createTestTables, testEndpoint, type TestTables } from '../support/dynamo';
import { command } from '../support/http-events';
import { testLogger } from '../support/logs';
import { storedRows as storedRowsIn } from '../support/projection-rows';
import { runProcess } from '../support/processes';

let tables: TestTables;
let dir: string;
let send: ReturnType<typeof commandHandlerFromEnv>;
let store: DynamoDbEventStore;

beforeAll(async () => {
  tables = await createTestTables({ stream: true });
  dir = mkdtempSync(join(tmpdir(), 'redrive-'));
  send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
});
afterAll(async () => {
  await tables.drop();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** The CLI as `npm run redrive` / `npm run reproject` runs it, on this test's tables. */
const cli = async (args: readonly string[]) => {
  const run = runProcess('node', [
    '--import',
    'tsx',
    'local/tools/redrive.ts',
    ...args,
    '--endpoint',
    testEndpoint(),
    '--event-table',
    tables.eventTable,
    '--projections-table',
    tables.projectionsTable,
  ]);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
};

/** The order's view row (`order@v1#<id>` in the projections table), undefined when none. */
const orderRow = async (id: string) =>
  (
    await new DynamoDbProjectionRows(tables.doc, tables.projectionsTable).get(
      storedKey(orderViewProjection, id),
    )
  )?.view as OrderView | undefined;

/** Rows of `projection` whose key starts with `prefix`, merged as the route serves them. */
const storedRows = (projection: AnyRowProjection, prefix: string) =>
  storedRowsIn(tables.doc, tables.projectionsTable, storageName(projection), projection, prefix);

const createOrder = async (id: string, prefix: string) => {
  for (const c of [
    { type: 'order/create', payload: { customerId: `${prefix}-c`, currency: 'EUR' } },
    {
      type: 'order/addLine',
      payload: { lineId: 'a', sku: `${prefix}-S`, quantity: 2, unitPrice: 5 },
    },
    { type: 'order/removeLine', payload: { lineId: 'a' } },
  ]) {
    expect((await send(command({ ...c, aggregateId: id }))).statusCode).toBe(202);
  }
};

test('a batch sent to the on-failure file leaves its rows stale; npm run redrive repairs them', async () => {
  const file = join(dir, 'failed-records.jsonl');
  const sick = `sick-${process.pid}`;
  const well = `well-${process.pid}`;
  // The projector of the deployment, made sick for one order: the store fails its view row (as
  // a throttled table would) and the read models' reducers throw on its events (a poison event).
  const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
  const sickRow = storedKey(orderViewProjection, sick);
  const failingRows: typeof rows = Object.assign(Object.create(rows) as typeof rows, {
    save: (row: StoredRow, previous: number) =>
      row.key === sickRow
        ? Promise.reject(new Error('simulated throttling'))
        : rows.save(row, previous),
  });
  const poison = PROJECTIONS.map((p): AnyRowProjection =>
    p === orderViewProjection
      ? p
      : {
          ...p,
          reducer: (row, event, before) => {
            if (event.meta.aggregateId === sick) throw new Error('simulated poison');
            return p.reducer(row, event, before);
          },
        },
  );
  const log = testLogger('projector');
  const project = createRowProjector({
    projections: poison,
    rows: failingRows,
    events: store,
    log,
  });
  const poller = await startStreamPoller({
    endpoint: testEndpoint(),
    streamArn: tables.eventStreamArn!,
    handler: createProjectorHandler({ logger: log, aggregateTypes: ['order'], project }),
    pollIntervalMs: 20,
    maxRetries: 0,
    onFailureFile: file,
  });
  try {
    await createOrder(well, 'well');
    await createOrder(sick, 'sick');
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes(sick));
    await until(async () => (await orderRow(well))?.version === 3);
  } finally {
    await poller.stop();
  }

  // Stale: the sick order has no row, and its removed line is not counted.
  expect(await orderRow(sick)).toBeUndefined();
  expect(await storedRows(removedLinesProjection, 'sick')).toEqual(new Map());

  const first = await cli(['redrive', '--file', file]);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/entries name \d+ aggregates/);
  expect(first.stdout).toContain(`${sick}: re-projected up to version 3`);
  expect(first.stdout).toMatch(/Redrive done: (\d+) of \1 entries repaired and removed/);

  // Repaired: every projection equals the fold of the event log.
  const log3 = await store.load(sick);
  for (const projection of PROJECTIONS) {
    expect(await storedRows(projection, 'sick')).toEqual(
      foldRows(projection, [log3.map(toAction)]),
    );
  }
  // The entry left the file: a rerun does not redo it.
  expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
  const again = await cli(['redrive', '--file', file]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Nothing to redrive');
}, 120_000);

test('npm run reproject rebuilds any named aggregate, and a row deleted by hand', async () => {
  const id = `again-${process.pid}`;
  await createOrder(id, 'again');
  // No projector ran: nothing is projected yet for this order.
  expect(await orderRow(id)).toBeUndefined();
  const result = await cli(['reproject', id]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`${id}: re-projected up to version 3`);
  expect(result.stdout).toContain(`Re-projected 1 of 1 aggregates: ${id}`);
  expect((await orderRow(id))?.version).toBe(3);

  // A row deleted by hand (or lost) comes back too.
  await tables.doc.send(
    new DeleteCommand({
      TableName: tables.projectionsTable,
      Key: { key: storedKey(orderViewProjection, id) },
    }),
  );
  expect((await cli(['reproject', id])).code).toBe(0);
  expect((await orderRow(id))?.version).toBe(3);
});

test('npm run reproject names the ids that have no events and exits 1; the others are still done', async () => {
  const id = `mixed-${process.pid}`;
  const typo = `nobody-${process.pid}`;
  const other = `nobody2-${process.pid}`;
  await createOrder(id, 'mixed');
  const result = await cli(['reproject', typo, id, other]);
  expect(result.code).toBe(1);
  // The existing one is re-projected all the same, and said so.
  expect(result.stdout).toContain(`${id}: re-projected up to version 3`);
  expect((await orderRow(id))?.version).toBe(3);
  // The unknown ones, by name: on stderr, in the summary, never counted as done.
  expect(result.stdout).toContain(`Re-projected 1 of 3 aggregates: ${id}`);
  expect(result.stdout).toContain(`${typo}: NO EVENTS`);
  expect(result.stderr).toContain(`error: no events for 2 of 3 aggregate ids: ${typo} ${other}`);
  expect(result.stderr).toContain(`check the ids and the event table, ${tables.eventTable}`);
  // Nothing is written for an id without events.
  expect(await orderRow(typo)).toBeUndefined();

  // Only unknown ids: exit 1 as well, nothing reported as done.
  const none = await cli(['reproject', typo]);
  expect(none.code).toBe(1);
  expect(none.stdout).toContain('Re-projected 0 of 1 aggregates');
  expect(none.stderr).toContain(`no events for 1 of 1 aggregate ids: ${typo}`);
});

test('bad input is a clear error, exit 2, and nothing is read or written', async () => {
  const file = join(dir, 'untouched.jsonl');
  const line = JSON.stringify({ aggregateIds: ['x'] });
  writeFileSync(file, `${line}\n`);
  const bad = await cli(['reproject', 'not an id!']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('not an aggregate id: not an id!');
  const none = await cli(['reproject']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('give at least one aggregate id');
  const stray = await cli(['redrive', '--file', file, 'order-1']);
  expect(stray.code).toBe(2);
  expect(stray.stderr).toContain('use npm run reproject');
  expect(readFileSync(file, 'utf8')).toBe(`${line}\n`);
});
