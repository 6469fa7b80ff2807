/**
 * A local runtime (local/emulators/runtime.ts) in its own Node process, for the bench: each measured stack
 * runs beside nothing but its own gateway, poller and push, as a Lambda function runs beside no
 * other function. In one process, the 10 ms stream poller of one stack and the bench's own
 * clients shared an event loop with the coupled function and queued work in front of its
 * callbacks (docs/decisions/bench-process-per-stack.md).
 *
 * The parent forks this file with an IPC channel; the child starts the runtime on the given
 * DynamoDB Local, answers `ready` with its URLs (its identity provider's too: the parent asks it
 * for tokens over HTTP), tables and poller settings, `stats` with the
 * pollers' counters, `usage` with its CPU time and its DynamoDB capacity meter (./cost.ts), and
 * `stop` by stopping the runtime and exiting. It also stops when the parent
 * goes away (the channel closes), so no runtime outlives the bench.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { StackTables } from '../local/emulators/tables';
import type { LocalRuntimeOptions } from '../local/emulators/runtime';
import type { StreamPollerStats } from '../local/emulators/stream-poller';
import { type CapacityMeter, processCapacityMeter } from '../lambdas/core/shared/consumed-capacity';
import type { ProcessUsage } from './cost';

/** What crosses the process boundary: the runtime options that are plain data. */
export type RuntimeProcessOptions = Omit<LocalRuntimeOptions, 'log' | 'dataDir'> & {
  readonly dynamoDbEndpoint: string;
};

interface PollerSettings {
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
}

/** The started runtime as the parent sees it. */
export interface RuntimeProcessInfo {
  readonly decoupledUrl?: string;
  readonly coupledUrl?: string;
  readonly tables: { readonly decoupled?: StackTables; readonly coupled?: StackTables };
  readonly websocketUrls: { readonly decoupled?: string; readonly coupled?: string };
  /**
   * The settings of the stack's event-stream pollers (its projector's, read from it; its
   * workflows function's poller is started with the same options): the event source mapping.
   */
  readonly pollerSettings?: PollerSettings;
  /**
   * The runtime's development identity provider (`POST /token`): its gateways accept only its
   * tokens (bench/identity.ts requestDevToken).
   */
  readonly identityUrl: string;
}

/** The counters of the runtime's projector pollers (local/emulators/stream-poller.ts StreamPollerStats). */
export interface ProjectorCounters {
  readonly decoupled?: StreamPollerStats;
  readonly coupled?: StreamPollerStats;
}

export interface RuntimeProcess extends RuntimeProcessInfo {
  readonly pid: number;
  /** Each stack's projector poller counters (a stack this runtime does not serve: undefined). */
  stats(): Promise<ProjectorCounters>;
  /**
   * The process's CPU time so far and what its DynamoDB clients consumed (every handler's client
   * is metered: lambdas/handlers/document-client.ts); undefined once the process is gone.
   */
  usage(): Promise<ProcessUsage | undefined>;
  /** Stops the runtime and waits for the process to exit (killed after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

type ToChild = { type: 'stats' } | { type: 'usage' } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; info: RuntimeProcessInfo }
  | { type: 'failed'; message: string }
  | { type: 'stats'; stats: ProjectorCounters }
  | { type: 'usage'; usage: ProcessUsage };

const START_TIMEOUT_MS = 60_000;

/**
 * This process's CPU time so far (user + system, every thread) and what `meter` has counted: what
 * a serving process answers a `usage` request with (./cost.ts).
 */
export const processUsage = (meter: CapacityMeter = processCapacityMeter()): ProcessUsage => {
  const cpu = process.cpuUsage();
  return { cpuMicros: cpu.user + cpu.system, capacity: meter.snapshot() };
};

/**
 * How the bench forks a serving process of its own: the file is TypeScript, so the child loads
 * it through tsx, as `npm run bench` does the bench. BENCH_CPU_PROF_DIR=<dir>: the child writes
 * a V8 CPU profile there when it stops (bench/probes/cpu-summary.ts reads it; docs/benchmark.md,
 * "Framework overhead"). `nodeFlags` go to the child's `node` after those (a probe comparing a
 * V8 flag against the same code without it: bench/probes/process-pairs.ts).
 */
export const benchChildOptions = (nodeFlags: readonly string[] = []) => ({
  execArgv: [
    '--import',
    'tsx',
    ...(process.env.BENCH_CPU_PROF_DIR
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR]
      : []),
    ...nodeFlags,
  ],
  env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
});

/**
 * Forks `file` (with `args`) as a serving process of the bench's, with an IPC channel, and
 * watches its start: `fail` kills it and rejects with the error; so does its not calling
 * `served` within START_TIMEOUT_MS, or exiting first. `stop` sends it `{ type: 'stop' }` and
 * waits for it to exit (killed after `graceMs`). `what` names it in errors (`a runtime process`).
 */
export const forkBenchChild = (
  file: string,
  args: readonly string[],
  what: string,
  reject: (error: Error) => void,
  nodeFlags: readonly string[] = [],
) => {
  const child: ChildProcess = fork(file, args, {
    ...benchChildOptions(nodeFlags),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const fail = (error: Error) => {
    clearTimeout(timer);
    child.kill('SIGKILL');
    reject(error);
  };
  const timer = setTimeout(
    () => fail(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms`)),
    START_TIMEOUT_MS,
  );
  const onEarlyExit = (code: number | null) =>
    fail(new Error(`${what} exited before it served (exit code ${code})`));
  child.once('exit', onEarlyExit);
  child.once('error', fail);
  return {
    child,
    fail,
    served: () => {
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
    },
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timeout = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timeout);
    },
  };
};

/** Forks a runtime process and resolves once it serves (rejects with the child's error). */
export const startRuntimeProcess = (
  options: RuntimeProcessOptions,
  /** Flags for the child's `node` (benchChildOptions). */
  nodeFlags: readonly string[] = [],
): Promise<RuntimeProcess> =>
  new Promise((resolve, reject) => {
    const { child, fail, served, stop } = forkBenchChild(
      __filename,
      ['--child', JSON.stringify(options)],
      'a runtime process',
      reject,
      nodeFlags,
    );

    const waitingForStats: ((stats: ProjectorCounters) => void)[] = [];
    const waitingForUsage: ((usage: ProcessUsage | undefined) => void)[] = [];
    // A request in flight when the process goes away is answered with no counters.
    child.once('exit', () => {
      waitingForStats.splice(0).forEach((done) => done({}));
      waitingForUsage.splice(0).forEach((done) => done(undefined));
    });
    child.on('message', (message: FromChild) => {
      if (message.type === 'failed') return fail(new Error(message.message));
      if (message.type === 'stats') return waitingForStats.shift()?.(message.stats);
      if (message.type === 'usage') return waitingForUsage.shift()?.(message.usage);
      served();
      const send = (m: ToChild) => child.connected && child.send(m);
      resolve({
        ...message.info,
        pid: child.pid!,
        stats: () =>
          child.connected
            ? new Promise((done) => {
                waitingForStats.push(done);
                send({ type: 'stats' });
              })
            : Promise.resolve({}),
        usage: () =>
          child.connected
            ? new Promise((done) => {
                waitingForUsage.push(done);
                send({ type: 'usage' });
              })
            : Promise.resolve(undefined),
        stop,
      });
    });
  });

/** The child: starts the runtime, then serves the parent's requests until told to stop. */
const runChild = async (options: RuntimeProcessOptions) => {
  const { startLocalRuntime } = await import('../local/emulators/runtime');
  const send = (message: FromChild) => process.send?.(message);
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  let stopping = false;
  const stopAndExit = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await runtime?.stop().catch(() => undefined);
    process.exit(code);
  };
  // The parent died or closed the channel: never leave a runtime behind.
  process.on('disconnect', () => void stopAndExit(0));
  process.on('message', (message: ToChild) => {
    if (message.type === 'stats') {
      send({
        type: 'stats',
        stats: { decoupled: runtime?.poller?.stats(), coupled: runtime?.coupledPoller?.stats() },
      });
    }
    if (message.type === 'usage') send({ type: 'usage', usage: processUsage() });
    if (message.type === 'stop') void stopAndExit(0);
  });
  try {
    runtime = await startLocalRuntime({ ...options, log: () => undefined });
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    return stopAndExit(1);
  }
  const settings = (runtime.poller ?? runtime.coupledPoller)?.settings;
  send({
    type: 'ready',
    info: {
      decoupledUrl: runtime.decoupledUrl,
      coupledUrl: runtime.coupledUrl,
      tables: runtime.tables,
      websocketUrls: runtime.websocketUrls,
      identityUrl: runtime.identity.url,
      ...(settings && {
        pollerSettings: {
          pollIntervalMs: settings.pollIntervalMs,
          batchSize: settings.batchSize,
          batchingWindowMs: settings.batchingWindowMs,
        },
      }),
    },
  });
};

if (process.argv[2] === '--child' && process.argv[3] !== undefined && process.send) {
  void runChild(JSON.parse(process.argv[3]) as RuntimeProcessOptions);
}

/**
 * Waits until every projector of `runtimes` has caught up with its stream: over an interval of
 * `quietMs`, each poller polled again and neither invoked its function nor delivered a record.
 * The history sweep seeds thousands of events at once, which a live order never sees; its
 * commands are measured after the replay, not during it. Resolves with the time waited (ms), or
 * rejects after `timeoutMs`.
 */
export const waitForProjectors = async (
  runtimes: readonly RuntimeProcess[],
  options: { quietMs?: number; timeoutMs?: number } = {},
): Promise<number> => {
  const { quietMs = 1_000, timeoutMs = 600_000 } = options;
  const started = performance.now();
  const counters = async () =>
    (await Promise.all(runtimes.map((r) => r.stats()))).flatMap((c) =>
      [c.decoupled, c.coupled].filter((s): s is StreamPollerStats => s !== undefined),
    );
  let before = await counters();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const after = await counters();
    const idle = after.every((s, i) => {
      const b = before[i]!;
      return s.polls > b.polls && s.invocations === b.invocations && s.delivered === b.delivered;
    });
    if (idle) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`the projectors did not catch up within ${Math.round(timeoutMs / 1000)} s`);
    }
    before = after;
  }
};
