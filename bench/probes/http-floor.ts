/**
 * How much of the coupled function's CPU beyond its floor is the HTTP exchange (issue 23 item 6;
 * docs/benchmark.md, "Cost and CPU per command"). Three servers of the same commands, each
 * measured by the CPU time of the process that serves them, on one DynamoDB Local:
 *
 * - `coupled-function`: the coupled function and its gateway alone in a runtime process (the
 *   cost block's row of that name: no stream function);
 * - `http-floor`: the coupled floor's plain SDK calls (`FloorRunner`, metered like the
 *   function's client) behind a bare `node:http` server in a process of its own: one request
 *   read and parsed, one JSON answer written, no gateway, token, schema or framework;
 * - `floor-coupled`: the same calls in this process, no HTTP (the bench's floor).
 *
 * Each gets 400 unrecorded commands, then rounds of 60 sequential commands each, the first
 * rotating. The client is the bench's (keep-alive HTTP). `http-floor / floor` is what answering
 * over HTTP costs; `coupled-function / http-floor` is what the framework costs over that.
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

const WARM_UP = 400;
/** What this probe needs of a runner: its name, its tag and a command sent. */
type Sender = Pick<Runner, 'name' | 'tag' | 'execute'>;
const PER_ROUND = 60;

type ToChild = { type: 'usage' };
type FromChild = { type: 'ready'; port: number } | { type: 'usage'; cpuMicros: number };

/** The child: the coupled floor's calls behind a bare HTTP server. */
const serveFloor = async (endpoint: string) => {
  const doc = localFloorDoc(endpoint);
  const floor = new FloorRunner(
    'http-floor',
    'hf',
    'floor-coupled',
    doc,
    FLOOR_TABLES.coupled,
    FLOOR_VIEW,
  );
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { aggregateId, command } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        aggregateId: string;
        command: BenchCommand;
      };
      void floor.execute(aggregateId, command, { visible: true }).then((outcome) => {
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

/** Forks the HTTP floor; its URL, its CPU probe and its stop. */
const startHttpFloor = (endpoint: string) =>
  new Promise<{ port: number; cpuMicros: () => Promise<number>; stop: () => void }>(
    (resolve, reject) => {
      const child: ChildProcess = fork(
        __filename,
        ['--serve-floor', endpoint],
        // Forked as the runtime processes are: a CPU profile too under BENCH_CPU_PROF_DIR.
        benchChildOptions(),
      );
      const waiting: ((micros: number) => void)[] = [];
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the HTTP floor exited (${code})`)));
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

/** A runner that POSTs each command to the HTTP floor (keep-alive, like the bench's client). */
const httpFloorRunner = (port: number): Sender & { close(): void } => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    name: 'http-floor',
    tag: 'hf',
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
    const httpFloor = await startHttpFloor(target.dynamoDbEndpoint!);
    cleanup.push(async () => httpFloor.stop());
    const viaHttp = httpFloorRunner(httpFloor.port);
    cleanup.push(async () => viaHttp.close());
    const cpuOf = async (name: string) =>
      name === 'http-floor'
        ? httpFloor.cpuMicros()
        : ((await target.usage[name]!.usage())?.cpuMicros ?? Number.NaN);
    const runners: Sender[] = [
      target.costOnly.find((r) => r.name === 'coupled-function')!,
      viaHttp,
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
    const [alone, http, floor] = ['coupled-function', 'http-floor', 'floor-coupled'].map(
      perCommand,
    );
    console.log(
      `CPU ms per command of the serving process, ${rounds} rounds of ${PER_ROUND} after ${WARM_UP} unrecorded:`,
    );
    console.log(`  coupled-function ${alone!.toFixed(2)}`);
    console.log(`  http-floor       ${http!.toFixed(2)}`);
    console.log(`  floor-coupled    ${floor!.toFixed(2)}`);
    console.log(
      `  http-floor / floor ${(http! / floor!).toFixed(2)}x; coupled-function / http-floor ${(alone! / http!).toFixed(2)}x; coupled-function / floor ${(alone! / floor!).toFixed(2)}x`,
    );
  } finally {
    await cleanup.run();
  }
};

if (process.argv[2] === '--serve-floor' && process.argv[3] !== undefined) {
  void serveFloor(process.argv[3]);
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
