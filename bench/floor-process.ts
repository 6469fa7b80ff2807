/**
 * A floor's DynamoDB calls in a Node process of their own, for the CPU target's reading (./cost.ts,
 * CpuInTurns): its floor is then measured as the coupled function alone is, by the CPU time of
 * the whole process that does the work. In the bench's own process, a floor's CPU can only be
 * read inside its commands; GC and V8's helper threads landing outside them are missed, and work
 * of the bench's other clients landing inside them is counted (docs/decisions/
 * cpu-floor-in-a-process.md).
 *
 * The parent forks this file with an IPC channel; the child builds a `FloorRunner` on the given
 * DynamoDB Local (its own metered client) and answers `execute`, `prepare` and `usage` requests,
 * each by its id; `stop` ends it, and so does the channel closing, so no floor process outlives
 * the bench. A request crossing the channel costs the child 0.02–0.09 ms of CPU, under 1% of a
 * command (bench/probes/floor-process.ts).
 */
import type { BenchCommand } from './orders';
import type { ExecuteOptions, FloorTables, Outcome, Runner } from './runners';
import { forkBenchChild } from './runtime-process';
import type { ProcessUsage, UsageProbe } from './cost';

type FloorKind = 'floor-decoupled' | 'floor-coupled';

export interface FloorProcessOptions {
  readonly dynamoDbEndpoint: string;
  /** The runner's name and tag (aggregate ids), as the in-process floors'. */
  readonly name: string;
  readonly tag: string;
  /** Which floor's calls. */
  readonly kind: FloorKind;
  /** On which tables (the bench's: ./targets.ts FLOOR_TABLES). */
  readonly tables: FloorTables;
}

export interface FloorProcess {
  readonly pid: number;
  /** The floor as a runner: each command is sent to the process and answered by it. */
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

/** Forks a floor process and resolves once it answers (rejects with the child's error). */
export const startFloorProcess = (
  options: FloorProcessOptions,
  /** Flags for the child's `node` (./runtime-process.ts benchChildOptions). */
  nodeFlags: readonly string[] = [],
): Promise<FloorProcess> =>
  new Promise((resolve, reject) => {
    const { child, fail, served, stop } = forkBenchChild(
      __filename,
      ['--floor-child', JSON.stringify(options)],
      'a floor process',
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
      if (answer === undefined) throw new Error(`the floor process ${child.pid} has exited`);
      if (answer.type === 'error') throw new Error(`the floor process: ${answer.message}`);
      if (answer.type !== type) throw new Error(`the floor process answered ${answer.type}`);
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
          process: `floor process ${child.pid}`,
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

/** The child: the floor on its own client, answering the parent until told to stop. */
const runChild = async (options: FloorProcessOptions) => {
  const send = (message: FromChild) => process.send?.(message);
  try {
    const { localMeteredFloorClient } = await import('./targets');
    const { tableRoles } = await import('./cost');
    const { FLOOR_VIEW, FloorRunner } = await import('./runners');
    const { tables } = options;
    const { doc, probe } = localMeteredFloorClient(options.dynamoDbEndpoint);
    const floor = new FloorRunner(options.name, options.tag, options.kind, doc, tables, FLOOR_VIEW);
    const answer = async (request: Request): Promise<Answer> => {
      switch (request.type) {
        case 'execute':
          return {
            type: 'outcome',
            outcome: await floor.execute(request.aggregateId, request.command, request.options),
          };
        case 'prepare':
          await floor.prepare(request.aggregateId, request.length);
          return { type: 'prepared' };
        case 'usage':
          return { type: 'usage', usage: (await probe(tables).usage())! };
      }
    };
    const exit = () => {
      doc.destroy();
      process.exit(0);
    };
    // The parent died or closed the channel: never leave a floor process behind.
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

if (process.argv[2] === '--floor-child' && process.argv[3] !== undefined && process.send) {
  void runChild(JSON.parse(process.argv[3]) as FloorProcessOptions);
}
