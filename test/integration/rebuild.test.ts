/**
 * Rebuild, side by side (issue 11, item 4), on DynamoDB Local through the real handlers: 2,000
 * orders with varied histories in the event table, a new version (customer-summary v2) and a
 * projection added afterwards (removed-lines) rebuilt while commands keep arriving and the live
 * projector (the stream poller and the projector handler) runs; the switch; the rebuild CLI
 * killed with SIGKILL midway and resumed; `--until` (time travel) and `?asOf=`; a rebuild racing
 * the live projector on the same rows. Every check: rows equal to a from-scratch `foldRows`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { ProjectionRowStore } from '../../lambdas/core/projections/row-projection';
import { type StoredEvent, toAction } from '../../lambdas/core/events/events';
import { silentLog } from '../../lambdas/core/shared/log';
import {
  buildName,
  logUntil,
  rebuildSegment,
  type RebuildTarget,
  startRebuild,
  finishRebuild,
  UNTIL_SAFETY_MARGIN_MS,
  CHECKPOINT_EVENTS,
} from '../../lambdas/core/repair/rebuild';
import { DynamoDbRebuildState } from '../../lambdas/core/repair/dynamodb-rebuild-state';
import { segmentKey } from '../../lambdas/core/repair/rebuild-state';
import {
  type AnyRowProjection,
  foldRows,
  StaleRowError,
} from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import {
  customerSummaryProjection,
  customerSummaryV2Projection,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import {
  DynamoDbEventScan,
  DynamoDbEventStore,
} from '../../lambdas/core/events/dynamodb-event-store';
import { ENV } from '../../lambdas/handlers/environment';
import {
  commandHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import {
  parseRebuildCli,
  runRebuild,
  summary,
  UsageError,
  type RebuildCliOptions,
  type RebuildReport,
} from '../../local/tools/rebuild-cli';
import { tablesFor } from '../../local/emulators/runtime';
import {
  type LocalRuntimeFile,
  readRuntimeFile,
  writeRuntimeFile,
} from '../../local/emulators/runtime-file';
import { startStreamPoller, type StreamPoller } from '../../local/emulators/stream-poller';
import { createTestTables, testEndpoint, type TestTables } from '../support/dynamo';
import { scanLogs, seedOrders } from '../support/event-log';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { storedRows as storedRowsIn } from '../support/projection-rows';
import { runProcess } from '../support/processes';

const DEPLOYMENT: AnyRowProjection[] = [
  customerSummaryProjection,
  removedLinesProjection,
  customerSummaryV2Projection,
];
const ORDERS = 2000;
const START = new Date(Date.now() - 24 * 3600_000);

let tables: TestTables;
let poller: StreamPoller | undefined;
let seeded: StoredEvent[][];

/** A quiet stream on stderr's place for in-process runs (not a TTY: one line every 2 s). */
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

const cliOptions = (target: RebuildTarget, extra: Partial<RebuildCliOptions> = {}) => ({
  target,
  segments: 4,
  pageSize: 100,
  restart: false,
  endpoint: testEndpoint(),
  eventTable: tables.eventTable,
  projectionsTable: tables.projectionsTable,
  ...extra,
});

/** The rows stored under `<build>#`, as rowKey -> view. */
/** Rows under `build`, key -> view; a sharded projection's items merged as the route serves them. */
const storedRows = (build: string, projection?: AnyRowProjection) =>
  storedRowsIn(tables.doc, tables.projectionsTable, build, projection);

const fold = (projection: AnyRowProjection, logs: readonly (readonly StoredEvent[])[]) =>
  foldRows(
    projection,
    logs.map((log) => log.map(toAction)),
  );

/** Waits (bounded) until the live projector has caught up: the rows equal the fold of the log. */
const expectConverged = async (projection: AnyRowProjection) => {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const expected = fold(projection, await scanLogs(tables.doc, tables.eventTable));
    const actual = await storedRows(buildName({ projection }), projection);
    if (Date.now() > deadline) {
      expect(actual).toEqual(expected);
      return;
    }
    try {
      expect(actual).toEqual(expected);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
};

beforeAll(async () => {
  tables = await createTestTables({ stream: true });
  seeded = await seedOrders(tables.doc, tables.eventTable, 'rb', ORDERS, START);
  // The live projector starts after the history: v2 and removed-lines have none of it yet.
  poller = await startStreamPoller({
    endpoint: testEndpoint(),
    streamArn: tables.eventStreamArn!,
    handler: projectorHandlerFromEnv(tables.env, {
      logger: testLogger('projector'),
      projections: DEPLOYMENT,
    }),
    pollIntervalMs: 50,
    startingPosition: 'LATEST',
  });
}, 180_000);
afterAll(async () => {
  await poller?.stop();
  await tables.drop();
});

describe('rebuild side by side', () => {
  it('customer-summary v2, rebuilt while commands arrive and the live projector runs, equals the fold; the switch misses nothing', async () => {
    const send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
    expect(await storedRows('customer-summary@v2')).toEqual(new Map());
    // Commands keep arriving: new orders, and lines added to / removed from seeded drafts.
    let sending = true;
    let sent = 0;
    const drafts = seeded.filter((log) => log.at(-1)!.type.startsWith('order/line'));
    const traffic = (async () => {
      for (let j = 0; sending || j < 40; j++) {
        const fresh = `rb-live-${j}`;
        for (const c of [
          { type: 'order/create', payload: { customerId: `rb-c${j % 97}`, currency: 'EUR' } },
          {
            type: 'order/addLine',
            payload: { lineId: 'x', sku: 'rb-S1', quantity: 1, unitPrice: 9 },
          },
          { type: 'order/removeLine', payload: { lineId: 'x' } },
        ]) {
          expect((await send(command({ ...c, aggregateId: fresh }))).statusCode).toBe(202);
          sent++;
        }
        const draft = drafts[j % drafts.length]![0]!.aggregateId;
        const line = `live${j}`;
        await send(
          command({
            type: 'order/addLine',
            aggregateId: draft,
            payload: { lineId: line, sku: 'rb-S2', quantity: 2, unitPrice: 3 },
          }),
        );
        sent++;
      }
    })();

    const report = await runRebuild(cliOptions({ projection: customerSummaryV2Projection }), quiet);
    expect(report).toMatchObject({ done: true, failures: 0, caughtUp: true });
    expect(report.events).toBeGreaterThanOrEqual(seeded.flat().length);
    expect(summary(cliOptions({ projection: customerSummaryV2Projection }), report)).toMatch(
      /Caught up[\s\S]*--serve customer-summary=2[\s\S]*servedProjectionVersions=customer-summary=2/,
    );

    // The switch, while commands still arrive: the query function now serves v2.
    const served = queryHandlerFromEnv(
      { ...tables.env, [ENV.servedProjectionVersions]: 'customer-summary=2' },
      { logger: testLogger('query'), projections: DEPLOYMENT },
    );
    sending = false;
    await traffic;
    // An order created after the switch is in the served rows once projected.
    const after = 'rb-after-switch';
    await send(
      command({
        type: 'order/create',
        aggregateId: after,
        payload: { customerId: 'rb-new', currency: 'EUR' },
      }),
    );
    expect(sent).toBeGreaterThan(100);
    await expectConverged(customerSummaryV2Projection);
    const row = bodyOf<{ version: number; row: { ordersPlaced: number } }>(
      await served(
        httpEvent({
          routeKey: 'GET /read-models/{name}/{key}',
          pathParameters: { name: 'customer-summary', key: 'rb-new' },
        }),
      ),
    );
    expect(row).toMatchObject({ version: 2, row: { ordersPlaced: 1 } });
  }, 240_000);

  it('the rebuild CLI killed with SIGKILL midway resumes where it stopped; removed-lines equals the fold', async () => {
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    const build = 'removed-lines@v2';
    const args = [
      '--import',
      'tsx',
      'local/tools/rebuild-cli.ts',
      'removed-lines',
      '--segments',
      '4',
      '--page-size',
      '20',
      // Progress every 200 events per segment, read at a pace a 20 ms poll cannot miss.
      '--checkpoint-events',
      '200',
      '--max-rate',
      '2000',
      '--endpoint',
      testEndpoint(),
      '--event-table',
      tables.eventTable,
      '--projections-table',
      tables.projectionsTable,
    ];
    const first = runProcess(process.execPath, args);
    const total = seeded.flat().length;
    // Kill it once a good part, not all, is checkpointed.
    let saved = 0;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const segments = await Promise.all([0, 1, 2, 3].map((i) => state.getSegment(build, i)));
      saved = segments.reduce((n, s) => n + (s?.events ?? 0), 0);
      if (saved > total / 4 || first.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await state.getHeader(build))?.status).toBe('running');
    expect(saved).toBeLessThan(total);

    // The resume at full speed: only the first run had to be slow enough to be caught midway.
    const second = runProcess(
      process.execPath,
      args.map((arg, i) => (args[i - 1] === '--max-rate' ? '1000000' : arg)),
    );
    expect(await second.exited).toBe(0);
    expect(second.stderr).toMatch(/Resuming removed-lines@v2 .*events already done/);
    expect(second.stdout).toMatch(/Caught up/);
    expect((await state.getHeader(build))?.status).toBe('complete');
    await expectConverged(removedLinesProjection);
  }, 240_000);

  it('--until builds the rows as of a past moment, served with ?asOf=; another moment is a clear 404', async () => {
    // A moment in the middle of the seeded history (one event a second from START).
    const until = new Date(START.getTime() + Math.floor(seeded.flat().length / 2) * 1000 + 500);
    const iso = until.toISOString();
    const target = { projection: customerSummaryProjection, until: iso };
    const report = await runRebuild(cliOptions(target), quiet);
    expect(report).toMatchObject({
      done: true,
      caughtUp: true,
      build: `customer-summary@v1@${iso}`,
    });
    const expected = fold(
      customerSummaryProjection,
      (await scanLogs(tables.doc, tables.eventTable))
        .map((log) => logUntil(log, iso))
        .filter((l) => l.length > 0),
    );
    expect(expected.size).toBeGreaterThan(10);
    // Some customers changed after that moment: the build differs from the live rows.
    expect(await storedRows(buildName(target))).toEqual(expected);
    expect(await storedRows(buildName(target))).not.toEqual(
      await storedRows('customer-summary@v1'),
    );

    const query = queryHandlerFromEnv(tables.env, {
      logger: testLogger('query'),
      projections: DEPLOYMENT,
    });
    const [key, view] = [...expected][0]!;
    const read = (asOf: string) =>
      query(
        httpEvent({
          routeKey: 'GET /read-models/{name}/{key}',
          pathParameters: { name: 'customer-summary', key },
          query: { asOf },
        }),
      );
    const answer = await read(iso);
    expect(answer.statusCode).toBe(200);
    expect(bodyOf(answer)).toEqual({
      readModel: 'customer-summary',
      version: 1,
      asOf: iso,
      key,
      row: view,
    });
    // The same moment written with an offset names the same build.
    const offset = new Date(until.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect((await read(offset)).statusCode).toBe(200);
    const missing = await read(new Date(until.getTime() + 1).toISOString());
    expect(missing.statusCode).toBe(404);
    expect(bodyOf<{ error: { message: string } }>(missing).error.message).toMatch(
      /No complete build of customer-summary v1 as of .*npm run rebuild -- customer-summary --version 1 --until/,
    );
  }, 120_000);

  it('a rebuild with events it could not apply ends failed, not caught up, not served with ?asOf=; run again it starts over', async () => {
    // A version whose reducer throws on one order's first event: a bug to fix, then rebuild.
    const broken = seeded[0]![0]!.aggregateId;
    const fixed: AnyRowProjection = { ...customerSummaryProjection, version: 9 };
    const buggy: AnyRowProjection = {
      ...fixed,
      reducer: (row, event, before) => {
        if (event.meta.aggregateId === broken) throw new Error('a bug in the reducer');
        return fixed.reducer(row, event, before);
      },
    };
    const until = new Date(START.getTime() + 600_500).toISOString();
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    const build = buildName({ projection: fixed, until });

    const report = await runRebuild(cliOptions({ projection: buggy, until }), quiet);
    expect(report).toMatchObject({ done: true, status: 'failed', caughtUp: false, failures: 1 });
    expect(report.firstFailure).toContain(`${broken} v1: a bug in the reducer`);
    expect(await state.getHeader(build)).toMatchObject({
      status: 'failed',
      failures: 1,
      firstFailure: report.firstFailure,
    });
    const text = summary(cliOptions({ projection: buggy, until }), report);
    expect(text).toMatch(/Failed: 1 events could not be applied \(first: .*a bug in the reducer\)/);
    expect(text).toMatch(/marked failed and is not served with \?asOf=/);
    expect(text).toMatch(/run the same command again: a failed build starts over/);
    expect(text).not.toMatch(/curl/);

    const query = queryHandlerFromEnv(tables.env, {
      logger: testLogger('query'),
      projections: [fixed],
    });
    const read = () =>
      query(
        httpEvent({
          routeKey: 'GET /read-models/{name}/{key}',
          pathParameters: { name: 'customer-summary', key: 'rb-c1' },
          query: { asOf: until },
        }),
      );
    const refused = await read();
    expect(refused.statusCode).toBe(404);
    expect(bodyOf(refused)).toMatchObject({
      error: {
        code: 'NOT_FOUND',
        message: expect.stringMatching(
          /build of customer-summary v9 as of .* failed: some events could not be applied, so it is not served/,
        ) as string,
        details: { build: 'failed' },
      },
    });

    // The bug fixed, the same command again: it starts over (not "complete" from the progress).
    const lines: string[] = [];
    const out = { isTTY: false, write: (l: string) => lines.push(l) > 0 };
    const again = await runRebuild(
      cliOptions({ projection: fixed, until }),
      out as unknown as NodeJS.WriteStream,
    );
    expect(lines.join('')).toMatch(/failed last time: starting it over/);
    expect(again).toMatchObject({ status: 'complete', caughtUp: true, failures: 0 });
    expect((await read()).statusCode).toBe(200);
    expect(await storedRows(build)).toEqual(
      fold(
        fixed,
        (await scanLogs(tables.doc, tables.eventTable))
          .map((log) => logUntil(log, until))
          .filter((l) => l.length > 0),
      ),
    );
  }, 120_000);

  it('checkpoints every checkpointRows rows written within a 1 MB page: killed early it resumes there, and progress moves by chunks', async () => {
    // A version of its own (no live projector runs it), one segment, DynamoDB's 1 MB pages:
    // thousands of events a page, ~100 customers' rows.
    const projection: AnyRowProjection = { ...customerSummaryProjection, version: 31 };
    const target = { projection };
    const build = buildName(target);
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
    const total = (await scanLogs(tables.doc, tables.eventTable)).flat().length;
    const checkpointRows = 20;
    await startRebuild(state, target, 1);

    // A process killed early in its first page: its row writes fail from the 60th on.
    let saves = 0;
    const dying: ProjectionRowStore = {
      get: (key) => rows.get(key),
      getMany: (keys) => rows.getMany(keys),
      save: (row, rev) => {
        if (++saves > 60) return Promise.reject(new Error('killed'));
        return rows.save(row, rev);
      },
    };
    // Per checkpoint: its events, and the rows written since the one before.
    const first: { events: number; writes: number }[] = [];
    let savesBefore = 0;
    await expect(
      rebuildSegment(
        { scan: new DynamoDbEventScan(tables.client, tables.eventTable), rows: dying, state },
        target,
        0,
        1,
        {
          checkpointRows,
          onEvents: (events) => {
            first.push({ events, writes: saves - savesBefore });
            savesBefore = saves;
          },
        },
      ),
    ).rejects.toThrow('killed');
    const saved = await state.getSegment(build, 0);
    expect(saved?.done).toBe(false);
    expect(saved!.events).toBeGreaterThan(0);
    expect(saved!.events).toBeLessThan(total / 2);
    // Before the kill: checkpoints at most checkpointRows row writes apart (once a page before).
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...first.map((c) => c.writes))).toBeLessThanOrEqual(checkpointRows);
    expect(Math.max(...first.map((c) => c.events))).toBeLessThanOrEqual(CHECKPOINT_EVENTS);
    expect(saved?.events).toBe(first.reduce((a, b) => a + b.events, 0));

    // Resumed: it reads only what was not checkpointed, reporting progress chunk by chunk.
    const second: number[] = [];
    const done = await rebuildSegment(
      { scan: new DynamoDbEventScan(tables.client, tables.eventTable), rows, state },
      target,
      0,
      1,
      { checkpointRows, onEvents: (n) => second.push(n) },
    );
    expect(done).toMatchObject({ done: true, events: total, failures: 0 });
    expect(second.reduce((a, b) => a + b, 0)).toBe(total - saved!.events);
    expect(second.length).toBeGreaterThan(1);
    expect(Math.max(...second)).toBeLessThanOrEqual(CHECKPOINT_EVENTS);
    expect((await finishRebuild(state, target)).status).toBe('complete');
    expect(await storedRows(build)).toEqual(
      fold(projection, await scanLogs(tables.doc, tables.eventTable)),
    );
  }, 120_000);

  it('a rebuild racing the live projector on the same rows applies every event once', async () => {
    // A version of its own, so both writers start from empty rows and meet on every one.
    const raced: AnyRowProjection = { ...removedLinesProjection, version: 77 };
    const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    const logs = seeded.slice(0, 300);
    // The rebuild's segments share one store, so one row writer (batched reads, rows written
    // from what it last wrote, one write for a row both segments touch); every race lost counted.
    let lostRaces = 0;
    const counted = (store: ProjectionRowStore): ProjectionRowStore => ({
      get: (key) => store.get(key),
      getMany: (keys) => store.getMany!(keys),
      save: async (row, rev) => {
        try {
          await store.save(row, rev);
        } catch (error) {
          if (error instanceof StaleRowError) lostRaces++;
          throw error;
        }
      },
    });
    const rebuildRows = counted(rows);
    const projector = createRowProjector({
      projections: [raced],
      rows: counted(rows),
      events: new DynamoDbEventStore(tables.doc, tables.eventTable),
      log: silentLog,
    });
    const records = logs
      .flat()
      .map((event) => ({ id: `${event.aggregateId}/${event.version}`, event }));
    const batches = Array.from({ length: Math.ceil(records.length / 50) }, (_, i) =>
      records.slice(i * 50, i * 50 + 50),
    ).reverse();
    const target = { projection: raced };
    await startRebuild(state, target, 3);
    // Lambda retries a batch's failed records (a row lost its conditional write 8 times to the
    // rebuild): so does this stand-in, until none fail.
    const deliver = async (batch: typeof records) => {
      let pending = batch;
      for (let attempt = 0; pending.length > 0 && attempt < 20; attempt++) {
        const { failed } = await projector(pending);
        pending = pending.filter((r) => failed.includes(r.id));
      }
      return pending;
    };
    const [undelivered] = await Promise.all([
      Promise.all(batches.map(deliver)),
      ...[0, 1, 2].map((segment) =>
        rebuildSegment(
          {
            scan: new DynamoDbEventScan(tables.client, tables.eventTable),
            rows: rebuildRows,
            state,
          },
          target,
          segment,
          3,
          { pageSize: 15 },
        ),
      ),
    ]);
    expect(undelivered.flat()).toEqual([]);
    // They did meet: some conditional writes lost to the other writer and were redone.
    expect(lostRaces).toBeGreaterThan(0);
    expect((await finishRebuild(state, target)).done).toBe(true);
    // The rebuild scanned every order; the projector only the first 300: the rows are the fold
    // of the whole table, each event applied once.
    await expectConverged(raced);
  }, 120_000);
});

describe('npm run rebuild: clear errors, nothing written', () => {
  const env = { DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' };
  it.each([
    [
      ['nope'],
      /unknown projection "nope"; this deployment lists order: v1; customer-summary: v1; removed-lines: v2/,
    ],
    [
      ['customer-summary', '--version', '5'],
      /customer-summary has no version 5 in this deployment; listed: customer-summary: v1/,
    ],
    [['removed-lines', '--until', 'yesterday'], /--until must be an ISO-8601 date-time/],
    [['removed-lines', '--until', '2999-01-01T00:00:00Z'], /is not at least 60 s in the past/],
    [['removed-lines', '--segments', '0'], /--segments must be an integer from 1 to 1000/],
    [['removed-lines', '--max-rate', '0'], /--max-rate must be an integer from 1 to 10000000/],
    [
      ['removed-lines', '--checkpoint-events', '1.5'],
      /--checkpoint-events must be an integer from 1 to 1000000/,
    ],
    [['removed-lines', '--aws'], /--aws needs --event-table and --projections-table/],
    [[], /give one projection to rebuild/],
  ])('%j', (argv, message) => {
    expect(() => parseRebuildCli(argv, env)).toThrow(UsageError);
    expect(() => parseRebuildCli(argv, env)).toThrow(message);
  });

  it('--until inside the safety margin (events stamped before it may still be landing) is refused', () => {
    const now = Date.parse('2026-11-23T10:00:00.000Z');
    const at = (msAgo: number) => new Date(now - msAgo).toISOString();
    const parse = (msAgo: number) =>
      parseRebuildCli(['removed-lines', '--until', at(msAgo)], env, DEPLOYMENT, () => now);
    for (const msAgo of [0, 1_000, 10_000, UNTIL_SAFETY_MARGIN_MS - 1]) {
      expect(() => parse(msAgo)).toThrow(UsageError);
      expect(() => parse(msAgo)).toThrow(
        /--until 2026-11-23T\d\d:\d\d:\d\d\.\d{3}Z is not at least 60 s in the past \(now 2026-11-23T10:00:00\.000Z\)/,
      );
    }
    expect(UNTIL_SAFETY_MARGIN_MS).toBe(60_000);
    expect(parse(UNTIL_SAFETY_MARGIN_MS)).toMatchObject({
      options: { target: { until: at(UNTIL_SAFETY_MARGIN_MS) } },
    });
  });

  it('startRebuild refuses a new build inside the margin before writing anything', async () => {
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    const target = {
      projection: removedLinesProjection,
      until: new Date(Date.now() - 5_000).toISOString(),
    };
    await expect(startRebuild(state, target, 2)).rejects.toThrow(
      /is not at least 60 s in the past/,
    );
    expect(await state.getHeader(buildName(target))).toBeUndefined();
    expect(await state.getSegment(buildName(target), 0)).toBeUndefined();
  });

  describe('the printed query and switch commands fit the running npm start (its runtime file)', () => {
    const endpoint = 'http://127.0.0.1:8123';
    const running: LocalRuntimeFile = {
      pid: 1,
      dynamoDbEndpoint: endpoint,
      tables: {
        decoupled: tablesFor('local', 'decoupled'),
        coupled: tablesFor('local', 'coupled'),
      },
      apiUrls: { decoupled: 'http://127.0.0.1:4101', coupled: 'http://127.0.0.1:4102' },
      start: {
        args: ['--decoupled-port', '4101', '--data-dir', '.x', '--serve', 'customer-summary=1'],
        env: { COUPLED_PORT: '4102', SERVED_PROJECTION_VERSIONS: 'customer-summary=1' },
        dataDir: '.x',
      },
    };
    const until = '2026-11-23T09:00:00.000Z';
    const report: RebuildReport = {
      build: 'customer-summary@v2',
      status: 'complete',
      done: true,
      events: 10,
      aggregates: 2,
      failures: 0,
      ms: 1,
      caughtUp: true,
    };
    const printed = (argv: string[], file: LocalRuntimeFile | undefined = running) => {
      const parsed = parseRebuildCli(argv, {}, DEPLOYMENT, Date.now, () => file);
      if (parsed.help) throw new Error('help');
      return summary(parsed.options, { ...report, build: buildName(parsed.options.target) });
    };

    it('npm start writes its API URLs and how it was started; the rebuild reads them', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'runtime-')), 'local-runtime.json');
      const runtime = {
        dynamoDbEndpoint: endpoint,
        tables: running.tables,
        decoupledUrl: 'http://127.0.0.1:4101',
        coupledUrl: 'http://127.0.0.1:4102',
        websocketUrls: {},
        stop: () => Promise.resolve(),
      };
      await writeRuntimeFile(runtime, file, running.start);
      expect(readRuntimeFile(file)).toMatchObject({
        dynamoDbEndpoint: endpoint,
        apiUrls: running.apiUrls,
        start: running.start,
      });
      rmSync(dirname(file), { recursive: true, force: true });
    });

    it('the query goes to the real port of the stack whose tables were rebuilt', () => {
      const decoupled = printed(['customer-summary', '--until', until]);
      expect(decoupled).toContain(
        `curl -s -H "authorization: Bearer $(npm run -s token -- --user admin)" "http://127.0.0.1:4101/read-models/customer-summary/<key>?asOf=${until}"`,
      );
      expect(decoupled).not.toContain('3001');
      const coupled = printed([
        'customer-summary',
        '--until',
        until,
        '--table-prefix',
        'local',
        '--event-table',
        'local-coupled-events',
        '--projections-table',
        'local-coupled-read-models',
      ]);
      expect(coupled).toContain('"http://127.0.0.1:4102/read-models/customer-summary/<key>?asOf=');
    });

    it('the switch restarts npm start with its own flags and settings, serving the new version', () => {
      const text = printed(['customer-summary']);
      expect(text).toContain(
        'COUPLED_PORT=4102 npm start -- --decoupled-port 4101 --data-dir .x --serve customer-summary=2',
      );
      expect(text).not.toMatch(/in memory/);
      const inMemory = printed(['customer-summary'], {
        ...running,
        start: { args: ['--decoupled-port=4101', '--serve=customer-summary=1'], env: {} },
      });
      expect(inMemory).toContain('npm start -- --decoupled-port=4101 --serve customer-summary=2');
      expect(inMemory).toMatch(/keeps its data in memory: a restart starts from empty tables/);
    });

    it('no matching runtime: a placeholder, never a default port; --aws: the deployed API', () => {
      const other = printed(['customer-summary', '--until', until, '--endpoint', 'http://h:1']);
      expect(other).toContain('"<API URL>/read-models/customer-summary/<key>?asOf=');
      expect(other).not.toContain('3001');
      const aws = printed([
        'customer-summary',
        '--until',
        until,
        '--aws',
        '--event-table',
        'e',
        '--projections-table',
        'p',
      ]);
      expect(aws).toContain('curl -s "${auth[@]}" "${API}read-models/customer-summary/<key>?asOf=');
      expect(
        printed(['customer-summary', '--aws', '--event-table', 'e', '--projections-table', 'p']),
      ).toMatch(
        /Switch queries to it: +npm run cdk -- deploy ReduxBackend-Decoupled -c servedProjectionVersions=customer-summary=2/,
      );
    });
  });

  it('defaults: the highest listed version, npm start tables, 4 segments', () => {
    const parsed = parseRebuildCli(['customer-summary'], env, DEPLOYMENT);
    expect(parsed).toMatchObject({
      help: false,
      options: {
        target: { projection: { name: 'customer-summary', version: 2 } },
        segments: 4,
        endpoint: 'http://127.0.0.1:1',
        eventTable: 'local-decoupled-events',
        projectionsTable: 'local-decoupled-read-models',
      },
    });
  });

  it('a missing table fails before anything is written', async () => {
    const options = cliOptions(
      { projection: removedLinesProjection },
      { eventTable: 'no-such-table' },
    );
    await expect(runRebuild(options, quiet)).rejects.toThrow(/table no-such-table does not exist/);
    const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
    // removed-lines@v2 was built above; a fresh name proves nothing new appears.
    const other = cliOptions(
      { projection: { ...removedLinesProjection, version: 5 } },
      { eventTable: 'no-such-table' },
    );
    await expect(runRebuild(other, quiet)).rejects.toThrow(/does not exist/);
    expect(await state.getHeader('removed-lines@v5')).toBeUndefined();
    expect(
      await tables.doc
        .send(new ScanCommand({ TableName: tables.projectionsTable }))
        .then((r) => (r.Items ?? []).filter((i) => String(i.key).includes('removed-lines@v5'))),
    ).toEqual([]);
    expect(segmentKey('removed-lines@v5', 0)).toBe('rebuild#removed-lines@v5#0');
  });
});
