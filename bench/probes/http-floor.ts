/**
 * How much of the coupled function's CPU beyond its floor is the HTTP exchange, the local
 * gateway and the function (issue 23 item 6; docs/benchmark.md, "Cost and CPU per command"). Four
 * servers of the same commands, each measured by the CPU time of the process that serves them, on
 * one DynamoDB Local:
 *
 * - `coupled-function`: the coupled function and its gateway alone in a runtime process (the
 *   cost block's row of that name: no stream function);
 * - `http-function`: the same handler (`coupledHandlerFromEnv`, writer push on) behind a bare
 *   `node:http` server in a process of its own, called with the payload 2.0 event its gateway
 *   builds (claims passed on): no gateway, no token check;
 * - `http-floor`: the coupled floor's plain SDK calls (`FloorRunner`, metered like the
 *   function's client) behind a bare `node:http` server in a process of its own: one request
 *   read and parsed, one JSON answer written, no gateway, token, schema or framework;
 * - `floor-coupled`: the same calls in this process, no HTTP (the bench's floor).
 *
 * Each gets 400 unrecorded commands, then rounds of 60 sequential commands each, the first
 * rotating. The client is the bench's (keep-alive HTTP). `http-floor / floor` is what answering
 * over HTTP costs; `http-function / http-floor` what the function costs over that;
 * `coupled-function / http-function` what the local gateway costs.
 *
 * Run: node --import tsx bench/probes/http-floor.ts [rounds, default 4]
 * (PROBE_FAST=1 also starts the idle 10 ms decoupled stack, as `npm run bench` has beside it.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BenchCommand, OrderSession } from '../orders';
import { FLOOR_VIEW, FloorRunner, type Runner } from '../runners';
import { rotated } from '../cost';
import { Cleanup, FLOOR_TABLES, localFloorDoc, startLocalTarget } from '../targets';
import { benchChildOptions } from '../runtime-process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { ENV } from '../../lambdas/handlers/environment';
import { coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { lambdaContext } from '../../local/emulators/lambda-context';
import {
  ensurePushTables,
  ensureTables,
  ensureViewStream,
  localFunctionEnv,
} from '../../local/emulators/tables';
import { directEvent } from '../direct-event';

const WARM_UP = 400;
/** What this probe needs of a runner: its name, its tag and a command sent. */
type Sender = Pick<Runner, 'name' | 'tag' | 'execute'>;
const PER_ROUND = 60;

type ToChild = { type: 'usage' };
type FromChild = { type: 'ready'; port: number } | { type: 'usage'; cpuMicros: number };

/** What a child server does with one command: its outcome for the answer. */
type Serve = (
  aggregateId: string,
  command: BenchCommand,
) => Promise<{ ok: boolean; version?: number }>;

/** The coupled floor's calls. */
const floorServe = (endpoint: string): Serve => {
  const floor = new FloorRunner(
    'http-floor',
    'hf',
    'floor-coupled',
    localFloorDoc(endpoint),
    FLOOR_TABLES.coupled,
    FLOOR_VIEW,
  );
  return (aggregateId, command) => floor.execute(aggregateId, command, { visible: true });
};

/** The coupled function on tables of its own, called as its gateway calls it. */
const functionServe = async (endpoint: string): Promise<Serve> => {
  const tables = {
    eventTable: 'http-function-events',
    projectionsTable: 'http-function-projections',
    snapshotsTable: 'http-function-snapshots',
    commandsTable: 'http-function-commands',
    subscriptionsTable: 'http-function-subscriptions',
  };
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTables(client, tables, { stream: true });
  await ensureViewStream(client, tables.projectionsTable);
  await ensurePushTables(client, tables);
  client.destroy();
  const handler = coupledHandlerFromEnv(
    {
      ...localFunctionEnv(tables, endpoint),
      [ENV.subscriptionsTable]: tables.subscriptionsTable,
      // No subscriber: the writer push reads the subscriptions and posts nothing.
      [ENV.websocketManagementEndpoint]: 'http://127.0.0.1:1',
    },
    { logger: new Logger({ serviceName: 'coupled', logLevel: 'ERROR' }) },
  );
  const claims = { sub: 'bench', 'cognito:groups': '[admin]', exp: '9999999999' };
  return async (aggregateId, command) => {
    const result = (await handler(
      directEvent(JSON.stringify({ ...command, aggregateId }), claims),
      lambdaContext('coupled-api'),
    )) as { statusCode: number; body: string };
    const body = JSON.parse(result.body) as { version?: number };
    return { ok: result.statusCode === 200, version: body.version };
  };
};

/** The child: one of the above behind a bare HTTP server. */
const serveOverHttp = async (serve: Serve) => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { aggregateId, command } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        aggregateId: string;
        command: BenchCommand;
      };
      void serve(aggregateId, command).then((outcome) => {
        const body = JSON.stringify({ ok: outcome.ok, version: outcome.version });
        res.writeHead(outcome.ok ? 200 : 500, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  process.on('message', (message: ToChild) => {
    if (message.type !== 'usage') return;
    const cpu = process.cpuUsage();
    process.send?.({ type: 'usage', cpuMicros: cpu.user + cpu.system });
  });
  process.on('disconnect', () => process.exit(0));
  // An exit of its own, so a CPU profile asked for is written.
  process.on('SIGTERM', () => process.exit(0));
};

/** Forks an HTTP server of the floor or the function; its URL, its CPU probe and its stop. */
const startHttpServer = (endpoint: string, serves: 'floor' | 'function') =>
  new Promise<{ port: number; cpuMicros: () => Promise<number>; stop: () => void }>(
    (resolve, reject) => {
      const child: ChildProcess = fork(
        __filename,
        ['--serve', serves, endpoint],
        // Forked as the runtime processes are: a CPU profile too under BENCH_CPU_PROF_DIR.
        benchChildOptions(),
      );
      const waiting: ((micros: number) => void)[] = [];
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the HTTP ${serves} exited (${code})`)));
      child.on('message', (message: FromChild) => {
        if (message.type === 'usage') return waiting.shift()?.(message.cpuMicros);
        resolve({
          port: message.port,
          cpuMicros: () =>
            new Promise((done) => {
              waiting.push(done);
              child.send({ type: 'usage' } satisfies ToChild);
            }),
          stop: () => child.kill('SIGTERM'),
        });
      });
    },
  );

/** A runner that POSTs each command to a child server (keep-alive, like the bench's client). */
const httpRunner = (name: string, tag: string, port: number): Sender & { close(): void } => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    name,
    tag,
    close: () => agent.destroy(),
    execute: (aggregateId, command) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = request(
          { host: '127.0.0.1', port, method: 'POST', path: '/', agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                ok: boolean;
                version?: number;
              };
              resolve({
                ok: answer.ok,
                status: res.statusCode ?? 0,
                version: answer.version,
                ackMs: performance.now() - started,
                retries: 0,
              });
            });
          },
        );
        req.on('error', reject);
        req.setHeader('content-type', 'application/json');
        req.end(JSON.stringify({ aggregateId, command }));
      }),
  };
};

const main = async () => {
  const rounds = Number(process.argv[2] ?? 4);
  const cleanup = new Cleanup();
  try {
    const target = await startLocalTarget(cleanup, { fastPoller: process.env.PROBE_FAST === '1' });
    const servers = {
      'http-function': await startHttpServer(target.dynamoDbEndpoint!, 'function'),
      'http-floor': await startHttpServer(target.dynamoDbEndpoint!, 'floor'),
    };
    for (const server of Object.values(servers)) cleanup.push(async () => server.stop());
    const overHttp = [
      httpRunner('http-function', 'hfn', servers['http-function'].port),
      httpRunner('http-floor', 'hf', servers['http-floor'].port),
    ];
    for (const runner of overHttp) cleanup.push(async () => runner.close());
    const cpuOf = async (name: string) =>
      name === 'http-function' || name === 'http-floor'
        ? servers[name].cpuMicros()
        : ((await target.usage[name]!.usage())?.cpuMicros ?? Number.NaN);
    const runners: Sender[] = [
      target.costOnly.find((r) => r.name === 'coupled-function')!,
      ...overHttp,
      target.floors.find((r) => r.name === 'floor-coupled')!,
    ];
    const runId = `hf${Date.now().toString(36)}`;
    const sessions = new Map(
      runners.map((r) => [r.name, new OrderSession(`${runId}-${r.tag}`, 10)]),
    );
    const send = async (runner: Sender, n: number) => {
      for (let i = 0; i < n; i++) {
        const { aggregateId, command } = sessions.get(runner.name)!.next();
        const outcome = await runner.execute(aggregateId, command, { visible: true });
        if (!outcome.ok) throw new Error(`${runner.name}: a command failed (${outcome.status})`);
      }
    };
    for (const runner of runners) await send(runner, WARM_UP);
    const cpuMs = new Map(runners.map((r) => [r.name, 0]));
    for (let round = 0; round < rounds; round++) {
      for (const runner of rotated(runners, round)) {
        const before = await cpuOf(runner.name);
        await send(runner, PER_ROUND);
        const after = await cpuOf(runner.name);
        cpuMs.set(runner.name, cpuMs.get(runner.name)! + (after - before) / 1000);
      }
    }
    const perCommand = (name: string) => cpuMs.get(name)! / (rounds * PER_ROUND);
    const [alone, fn, http, floor] = [
      'coupled-function',
      'http-function',
      'http-floor',
      'floor-coupled',
    ].map(perCommand) as [number, number, number, number];
    console.log(
      `CPU ms per command of the serving process, ${rounds} rounds of ${PER_ROUND} after ${WARM_UP} unrecorded:`,
    );
    console.log(`  coupled-function ${alone.toFixed(2)}`);
    console.log(`  http-function    ${fn.toFixed(2)}`);
    console.log(`  http-floor       ${http.toFixed(2)}`);
    console.log(`  floor-coupled    ${floor.toFixed(2)}`);
    console.log(
      `  http-floor / floor ${(http / floor).toFixed(2)}x; http-function / http-floor ${(fn / http).toFixed(2)}x; coupled-function / http-function ${(alone / fn).toFixed(2)}x; coupled-function / floor ${(alone / floor).toFixed(2)}x`,
    );
  } finally {
    await cleanup.run();
  }
};

const [flag, serves, endpoint] = process.argv.slice(2);
if (flag === '--serve' && (serves === 'floor' || serves === 'function') && endpoint) {
  void (serves === 'floor' ? Promise.resolve(floorServe(endpoint)) : functionServe(endpoint)).then(
    serveOverHttp,
  );
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
