/**
 * A runner in a Node process of its own, for the CPU target's reading (./cost.ts, CpuInTurns):
 * the coupled floor's DynamoDB calls, or the coupled function as a Lambda instance runs it, each
 * measured by the CPU time of the whole process that does the work. In the bench's own process,
 * a runner's CPU can only be read inside its commands; GC and V8's helper threads landing outside
 * them are missed, and work of the bench's other clients landing inside them is counted
 * (docs/decisions/cpu-floor-in-a-process.md).
 *
 * The parent forks this file with an IPC channel; the child builds its runner on the given
 * DynamoDB Local and tables: a `FloorRunner` (kind `floor-coupled` or `floor-decoupled`, its own
 * metered client), or (kind `coupled`) an `InvokedFunctionRunner` around the coupled function's
 * handler, wired as the local runtime wires it (its metered client, writer push on: no subscriber
 * is ever registered on the bench's tables, so it reads its subscribers and posts nothing). It
 * answers `execute`, `prepare` and `usage` requests, each by its id; `stop` ends it, and so does
 * the channel closing, so no runner process outlives the bench. A request crossing the channel
 * costs the child 0.02–0.09 ms of CPU, under 1% of a command (bench/probes/floor-process.ts); on
 * AWS, a function instance is handed its event by Lambda's runtime API, also outside its handler.
 */
import type { BenchCommand } from './orders';
import type { ExecuteOptions, FloorTables, InvokedHandler, Outcome, Runner } from './runners';
import { forkBenchChild, processUsage } from './runtime-process';
import type { ProcessUsage, UsageProbe } from './cost';

/** A floor's calls, or (`coupled`) the coupled function invoked (./runners.ts InvokedFunctionRunner). */
type ProcessRunnerKind = 'floor-decoupled' | 'floor-coupled' | 'coupled';

export interface RunnerProcessOptions {
  readonly dynamoDbEndpoint: string;
  /** The runner's name and tag (aggregate ids), as the in-process runners'. */
  readonly name: string;
  readonly tag: string;
  /** Which floor's calls, or the coupled function. */
  readonly kind: ProcessRunnerKind;
  /**
   * On which tables (the bench's floor: ./targets.ts FLOOR_TABLES). The coupled function needs
   * them all, `subscriptionsTable` included, created beforehand.
   */
  readonly tables: FloorTables;
}

export interface RunnerProcess {
  readonly pid: number;
  /** The process's runner: each command is sent to the process and answered by it. */
  readonly runner: Runner;
  /** The process's CPU time and what its DynamoDB client consumed. */
  readonly probe: UsageProbe;
  /** Asks the process to exit and waits for it (killed after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

type Request =
  | {
      type: 'execute';
      aggregateId: string;
      command: BenchCommand;
      options: ExecuteOptions;
    }
  | { type: 'prepare'; aggregateId: string; length: number }
  | { type: 'usage' };
type ToChild = (Request & { id: number }) | { type: 'stop' };
type Answer =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'prepared' }
  | { type: 'usage'; usage: ProcessUsage }
  | { type: 'error'; message: string };
type FromChild =
  | { type: 'ready'; tables: Record<string, string> }
  | { type: 'failed'; message: string }
  | (Answer & { id: number });

/** What the runner process is called in errors: `the floor process 123`. */
const processName = (kind: ProcessRunnerKind) => (kind === 'coupled' ? 'function' : 'floor');

/** Forks a runner process and resolves once it answers (rejects with the child's error). */
export const startRunnerProcess = (
  options: RunnerProcessOptions,
  /** Flags for the child's `node` (./runtime-process.ts benchChildOptions). */
  nodeFlags: readonly string[] = [],
): Promise<RunnerProcess> =>
  new Promise((resolve, reject) => {
    const what = `the ${processName(options.kind)} process`;
    const { child, fail, served, stop } = forkBenchChild(
      __filename,
      ['--runner-child', JSON.stringify(options)],
      `a ${processName(options.kind)} process`,
      reject,
      nodeFlags,
    );

    // Requests in flight, by id; the process going away answers them with nothing.
    const waiting = new Map<number, (answer: Answer | undefined) => void>();
    let nextId = 0;
    child.once('exit', () => {
      for (const done of waiting.values()) done(undefined);
      waiting.clear();
    });
    const ask = (request: Request): Promise<Answer | undefined> =>
      child.connected
        ? new Promise((done) => {
            const id = nextId++;
            waiting.set(id, done);
            child.send({ ...request, id } satisfies ToChild);
          })
        : Promise.resolve(undefined);
    /** The answer of the expected type, or an error naming what went wrong. */
    const answered = async <T extends Answer['type']>(
      request: Request,
      type: T,
    ): Promise<Extract<Answer, { type: T }>> => {
      const answer = await ask(request);
      if (answer === undefined) throw new Error(`${what} ${child.pid} has exited`);
      if (answer.type === 'error') throw new Error(`${what}: ${answer.message}`);
      if (answer.type !== type) throw new Error(`${what} answered ${answer.type}`);
      return answer as Extract<Answer, { type: T }>;
    };

    child.on('message', (message: FromChild) => {
      if (message.type === 'failed') return fail(new Error(message.message));
      if (message.type !== 'ready') {
        const done = waiting.get(message.id);
        waiting.delete(message.id);
        return done?.(message);
      }
      served();
      resolve({
        pid: child.pid!,
        runner: {
          name: options.name,
          tag: options.tag,
          kind: options.kind,
          execute: async (aggregateId, command, executeOptions) =>
            (
              await answered(
                { type: 'execute', aggregateId, command, options: executeOptions },
                'outcome',
              )
            ).outcome,
          prepare: async (aggregateId, length) => {
            await answered({ type: 'prepare', aggregateId, length }, 'prepared');
          },
        },
        probe: {
          process: `${processName(options.kind)} process ${child.pid}`,
          tables: message.tables,
          usage: async () => {
            const answer = await ask({ type: 'usage' });
            return answer?.type === 'usage' ? answer.usage : undefined;
          },
        },
        stop,
      });
    });
  });

/** The coupled function's handler, wired as the local runtime wires it (see the file's comment). */
const coupledFunction = async (options: RunnerProcessOptions) => {
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { coupledHandlerFromEnv } = await import('../lambdas/handlers/wiring');
  const { ENV } = await import('../lambdas/handlers/environment');
  const { localFunctionEnv } = await import('../local/emulators/tables');
  const { tables } = options;
  if (!tables.subscriptionsTable)
    throw new Error('the coupled function needs a subscriptionsTable');
  return coupledHandlerFromEnv(
    {
      ...localFunctionEnv(tables, options.dynamoDbEndpoint),
      [ENV.subscriptionsTable]: tables.subscriptionsTable,
      // Never called: nobody subscribes to the bench's orders on these tables.
      [ENV.websocketManagementEndpoint]: 'http://127.0.0.1:9',
    },
    { logger: new Logger({ serviceName: 'coupled', logLevel: 'ERROR' }) },
  );
};

/** The child: its runner, answering the parent until told to stop. */
const runChild = async (options: RunnerProcessOptions) => {
  const send = (message: FromChild) => process.send?.(message);
  try {
    const { localMeteredFloorClient } = await import('./targets');
    const { tableRoles } = await import('./cost');
    const { FLOOR_VIEW, FloorRunner, InvokedFunctionRunner } = await import('./runners');
    const { devUserClaims } = await import('./direct-event');
    const { BENCH_USER } = await import('./identity');
    const { tables } = options;
    let runner: Runner;
    let usage: () => Promise<ProcessUsage | undefined>;
    let destroy: () => void;
    if (options.kind === 'coupled') {
      runner = new InvokedFunctionRunner(
        options.name,
        options.tag,
        (await coupledFunction(options)) as InvokedHandler,
        devUserClaims(BENCH_USER),
      );
      // Its client adds to the process's meter (lambdas/handlers/document-client.ts).
      usage = () => Promise.resolve(processUsage());
      // Its client is the function's own, made once per process as on Lambda.
      destroy = () => undefined;
    } else {
      const { doc, probe } = localMeteredFloorClient(options.dynamoDbEndpoint);
      runner = new FloorRunner(options.name, options.tag, options.kind, doc, tables, FLOOR_VIEW);
      usage = probe(tables).usage;
      destroy = () => doc.destroy();
    }
    const answer = async (request: Request): Promise<Answer> => {
      switch (request.type) {
        case 'execute':
          return {
            type: 'outcome',
            outcome: await runner.execute(request.aggregateId, request.command, request.options),
          };
        case 'prepare':
          await runner.prepare(request.aggregateId, request.length);
          return { type: 'prepared' };
        case 'usage':
          return { type: 'usage', usage: (await usage())! };
      }
    };
    const exit = () => {
      destroy();
      process.exit(0);
    };
    // The parent died or closed the channel: never leave a runner process behind.
    process.on('disconnect', exit);
    process.on('message', (message: ToChild) => {
      if (message.type === 'stop') return exit();
      const { id } = message;
      answer(message).then(
        (reply) => send({ ...reply, id }),
        (error: unknown) => send({ type: 'error', message: (error as Error).message, id }),
      );
    });
    send({ type: 'ready', tables: tableRoles(tables) });
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    process.exit(1);
  }
};

if (process.argv[2] === '--runner-child' && process.argv[3] !== undefined && process.send) {
  void runChild(JSON.parse(process.argv[3]) as RunnerProcessOptions);
}
