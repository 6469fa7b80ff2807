/**
 * What an idle local runtime (both stacks, no command) burns in CPU per second, in its own
 * process and in DynamoDB Local's JVM, for each poller cadence: Lambda's 250 ms, a test's
 * 10 ms, and 10 ms with Lambda's 250 ms once idle (`idlePollIntervalMs`, woken by the process's
 * own writes; docs/decisions/local-event-source-mapping.md). One runtime at a time on one fresh
 * DynamoDB Local (after one unmeasured, while its JIT warms up); each is left to settle for 3 s,
 * then measured over `seconds`.
 *
 * Run: node --import tsx bench/probes/idle-runtime-cpu.ts [seconds, default 10]
 */
import { readFileSync } from 'node:fs';
import type { StreamPollerOptions } from '../../local/emulators/stream-poller';
import { startLocalRuntime } from '../../local/emulators/runtime';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';

/** User + system CPU ms of a process so far (/proc/<pid>/stat, clock ticks of 10 ms). */
const cpuMsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CADENCES: readonly [string, StreamPollerOptions][] = [
  ['250 ms (Lambda, npm start)', { pollIntervalMs: 250 }],
  ['10 ms', { pollIntervalMs: 10 }],
  ['10 ms, 250 ms once idle (tests)', { pollIntervalMs: 10, idlePollIntervalMs: 250 }],
];

let runs = 0;

/** One runtime with `poller`, left to settle for 3 s, then watched idle for `seconds`. */
const measureIdle = async (
  dynamo: { endpoint: string; pid: number | undefined },
  name: string,
  poller: StreamPollerOptions,
  seconds: number,
) => {
  const runtime = await startLocalRuntime({
    dynamoDbEndpoint: dynamo.endpoint,
    decoupledPort: 0,
    coupledPort: 0,
    tablePrefix: `idle${runs++}`,
    poller,
    handlerLogLevel: 'SILENT',
    quiet: true,
    log: () => undefined,
  });
  try {
    await sleep(3000);
    const node = process.cpuUsage();
    const java = cpuMsOf(dynamo.pid!);
    const started = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const used = process.cpuUsage(node);
    return {
      nodeRate: (used.user + used.system) / 1000 / elapsed,
      javaRate: (cpuMsOf(dynamo.pid!) - java) / elapsed,
    };
  } finally {
    await runtime.stop();
  }
};

const main = async () => {
  const seconds = Number(process.argv[2] ?? 10);
  const dynamo = await startDynamoDbLocal();
  try {
    // DynamoDB Local's JIT warms up on the first runtime's calls: a first one, not measured.
    await measureIdle(dynamo, 'warm-up', { pollIntervalMs: 10 }, 2);
    console.log(`idle runtime, both stacks; CPU ms per second over ${seconds} s`);
    console.log(
      `${'poller cadence'.padEnd(34)} ${'runtime'.padStart(8)} ${'DynamoDB Local'.padStart(15)}`,
    );
    for (const [name, poller] of CADENCES) {
      const { nodeRate, javaRate } = await measureIdle(dynamo, name, poller, seconds);
      console.log(
        `${name.padEnd(34)} ${nodeRate.toFixed(0).padStart(8)} ${javaRate.toFixed(0).padStart(15)}`,
      );
    }
  } finally {
    await dynamo.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
