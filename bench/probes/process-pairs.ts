/**
 * How far two processes doing the same work disagree (issue 23 item 6; docs/benchmark.md, "Cost
 * and CPU per command"). The CPU target reads one coupled-function process against one floor
 * process; this probe runs two of each (the same code, tables of their own) on one DynamoDB
 * Local, taking turns command by command in the bench's way, the order rotating, and reads
 * each process whole over a block, less its idle rate (the lower of the two measured for 1 s
 * before and after the block). Per block it prints each process's CPU ms per command and the
 * ratios function A / function B and floor A / floor B (what one process pair's noise is), and
 * each function against each floor (what the target reads).
 *
 * Run: node --import tsx bench/probes/process-pairs.ts [blocks, default 4] [commands, default 300]
 * (PROBE_FAST=1 also starts the idle 10 ms decoupled stack, as `npm run bench` has beside it;
 * PROBE_BURST=1 first sends each side the bench's warm-up burst: 16 clients at once, 25 commands
 * each. PROBE_WARM_UP=<n>: unrecorded commands per process before the blocks, default 400.
 * PROBE_FUNCTION_A_FLAGS and PROBE_FLOOR_A_FLAGS: flags for the `node` of function A and of floor
 * A only, space-separated, so that A against B reads a V8 flag against the same code without it,
 * e.g. PROBE_FUNCTION_A_FLAGS="--single-threaded-gc". PROBE_INVOKED=1: the two functions are the
 * coupled function as a Lambda instance runs it, handed each event in a process of its own, as
 * the bench's CPU target reads it, instead of runtime processes with their local gateway.)
 */
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';
import { ensurePushTables, ensureTables, ensureViewStream } from '../../local/emulators/tables';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiClient } from '../http';
import { refreshingTokens, requestDevToken } from '../identity';
import { startRuntimeProcess } from '../runtime-process';
import { startRunnerProcess } from '../runner-process';
import { HttpRunner, type Runner } from '../runners';
import { OrderSession } from '../orders';
import { Cleanup } from '../targets';
import { idleCpuMsPerSecond, netCpuMsPerCommand, type UsageProbe } from '../cost';

const WARM_UP = Number(process.env.PROBE_WARM_UP ?? 400);
const IDLE_MS = 1_000;

/** The flags of an `-a` process from `variable` (space-separated); none for the `-b` ones. */
const flagsFor = (name: string, variable: string): string[] =>
  name.endsWith('-a') ? (process.env[variable] ?? '').split(' ').filter(Boolean) : [];

const main = async () => {
  const blocks = Number(process.argv[2] ?? 4);
  const commands = Number(process.argv[3] ?? 300);
  const cleanup = new Cleanup();
  try {
    const dynamo = await startDynamoDbLocal();
    cleanup.push(() => dynamo.stop());
    const endpoint = dynamo.endpoint;
    if (process.env.PROBE_FAST === '1') {
      const fast = await startRuntimeProcess({
        dynamoDbEndpoint: endpoint,
        quiet: true,
        handlerLogLevel: 'ERROR',
        stacks: ['decoupled'],
        decoupledPort: 0,
        tablePrefix: 'pp-fast',
        poller: { pollIntervalMs: 10 },
      });
      cleanup.push(() => fast.stop());
    }
    const sides: { name: string; runner: Runner; probe: UsageProbe }[] = [];
    const admin = new DynamoDBClient({
      endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    cleanup.push(() => Promise.resolve(admin.destroy()));
    /** A coupled stack's tables of its own, created as the stack's are. */
    const tablesOf = async (name: string) => {
      const tables = {
        eventTable: `pp-${name}-events`,
        projectionsTable: `pp-${name}-projections`,
        snapshotsTable: `pp-${name}-snapshots`,
        commandsTable: `pp-${name}-commands`,
        subscriptionsTable: `pp-${name}-subscriptions`,
      };
      await ensureTables(admin, tables, { stream: true });
      await ensureViewStream(admin, tables.projectionsTable);
      await ensurePushTables(admin, tables);
      return tables;
    };
    for (const name of ['function-a', 'function-b']) {
      const nodeFlags = flagsFor(name, 'PROBE_FUNCTION_A_FLAGS');
      if (process.env.PROBE_INVOKED === '1') {
        const invoked = await startRunnerProcess(
          {
            dynamoDbEndpoint: endpoint,
            name,
            tag: name,
            kind: 'coupled',
            tables: await tablesOf(name),
          },
          nodeFlags,
        );
        cleanup.push(() => invoked.stop());
        sides.push({ name, runner: invoked.runner, probe: invoked.probe });
        continue;
      }
      const runtime = await startRuntimeProcess(
        {
          dynamoDbEndpoint: endpoint,
          quiet: true,
          handlerLogLevel: 'ERROR',
          stacks: ['coupled'],
          coupledPort: 0,
          tablePrefix: `pp-${name}`,
          streamFunctions: false,
        },
        nodeFlags,
      );
      cleanup.push(() => runtime.stop());
      const tokens = refreshingTokens(() => requestDevToken(runtime.identityUrl));
      const client = new ApiClient(runtime.coupledUrl!, { tokens });
      cleanup.push(() => Promise.resolve(client.close()));
      sides.push({
        name,
        runner: new HttpRunner(name, name, 'coupled', client),
        probe: { process: name, tables: {}, usage: () => runtime.usage() },
      });
    }
    for (const name of ['floor-a', 'floor-b']) {
      const floor = await startRunnerProcess(
        {
          dynamoDbEndpoint: endpoint,
          name,
          tag: name,
          kind: 'floor-coupled',
          tables: await tablesOf(name),
        },
        flagsFor(name, 'PROBE_FLOOR_A_FLAGS'),
      );
      cleanup.push(() => floor.stop());
      sides.push({ name, runner: floor.runner, probe: floor.probe });
    }
    const runId = `pp${Date.now().toString(36)}`;
    const sessions = sides.map((side) => new OrderSession(`${runId}-${side.name}`, 10));
    const send = async (k: number) => {
      const { aggregateId, command } = sessions[k]!.next();
      const outcome = await sides[k]!.runner.execute(aggregateId, command, { visible: false });
      if (!outcome.ok) throw new Error(`${sides[k]!.name}: a command failed (${outcome.status})`);
    };
    const order = (i: number) => sides.map((_, k) => (k + i) % sides.length);
    // PROBE_BURST=1: first the bench's warm-up burst, 16 clients at once × 25 commands per side.
    if (process.env.PROBE_BURST === '1') {
      for (const [k, side] of sides.entries()) {
        await Promise.all(
          Array.from({ length: 16 }, async (_, c) => {
            const session = new OrderSession(`${runId}-${side.name}-burst-c${c}`, 10);
            for (let i = 0; i < 25; i++) {
              const { aggregateId, command } = session.next();
              const outcome = await sides[k]!.runner.execute(aggregateId, command, {
                visible: false,
              });
              if (!outcome.ok) throw new Error(`${side.name}: a burst command failed`);
            }
          }),
        );
      }
    }
    for (let i = 0; i < WARM_UP; i++) for (const k of order(i)) await send(k);
    const cpu = async () =>
      Promise.all(sides.map(async (side) => ((await side.probe.usage())?.cpuMicros ?? NaN) / 1000));
    // Each process's idle rate (ms per second), all four watched over the same window.
    const idle = () =>
      Promise.all(
        sides.map(async (side) => (await idleCpuMsPerSecond(side.probe, IDLE_MS)) ?? NaN),
      );
    let idleBefore = await idle();
    const perBlock: number[][] = [];
    for (let block = 0; block < blocks; block++) {
      const start = await cpu();
      const startedAt = performance.now();
      for (let i = 0; i < commands; i++) for (const k of order(i)) await send(k);
      const ms = performance.now() - startedAt;
      const end = await cpu();
      const idleAfter = await idle();
      const net = end.map((cpuMs, k) =>
        netCpuMsPerCommand(
          cpuMs - start[k]!,
          Math.min(idleBefore[k]!, idleAfter[k]!),
          ms,
          commands,
        ),
      );
      idleBefore = idleAfter;
      perBlock.push(net);
      const [fa, fb, la, lb] = net as [number, number, number, number];
      console.log(
        `block ${block + 1}: ${sides.map((s, k) => `${s.name} ${net[k]!.toFixed(2)}`).join(', ')} ms/cmd;` +
          ` fA/fB ${(fa / fb).toFixed(2)}, lA/lB ${(la / lb).toFixed(2)},` +
          ` fA/lA ${(fa / la).toFixed(2)}, fA/lB ${(fa / lb).toFixed(2)}, fB/lA ${(fb / la).toFixed(2)}, fB/lB ${(fb / lb).toFixed(2)}`,
      );
    }
    const mean = sides.map((_, k) => perBlock.reduce((sum, b) => sum + b[k]!, 0) / blocks);
    const [fa, fb, la, lb] = mean as [number, number, number, number];
    console.log(
      `all:     ${sides.map((s, k) => `${s.name} ${mean[k]!.toFixed(2)}`).join(', ')} ms/cmd;` +
        ` fA/fB ${(fa / fb).toFixed(2)}, lA/lB ${(la / lb).toFixed(2)}, functions/floors ${((fa + fb) / (la + lb)).toFixed(2)}`,
    );
  } finally {
    await cleanup.run();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
