/**
 * The measurements: warm-up, concurrency, contention and history. Every sweep interleaves the
 * runners (the one that goes first rotates every round), so noise on a shared machine hits
 * all of them alike.
 */
import type { Progress } from './progress';
import { changeQuantity, FIRST_LINE, OrderSession } from './orders';
import type { Outcome, Runner } from './runners';
import type { BenchSettings, ConcurrencyLevel } from './settings';
import { historyPlan, turnSizes } from './settings';
import { rotate } from './stats';
import { DEFAULT_SNAPSHOT_EVERY } from '../lambdas/core/command/snapshots';

export interface Samples {
  readonly ack: number[];
  readonly visible: number[];
  /** The independent observer's times (decoupled, one client): see bench/observer.ts. */
  readonly observed: number[];
  /** Failed commands by code (or HTTP status). */
  readonly errors: Record<string, number>;
  /** Wall time of this runner's turns (ms). */
  durationMs: number;
}

const newSamples = (): Samples => ({
  ack: [],
  visible: [],
  observed: [],
  errors: {},
  durationMs: 0,
});

const record = (samples: Samples, outcome: Outcome) => {
  if (outcome.ok) {
    samples.ack.push(outcome.ackMs);
    if (outcome.visibleMs !== undefined) samples.visible.push(outcome.visibleMs);
    if (outcome.observedMs !== undefined) samples.observed.push(outcome.observedMs);
  } else {
    const code = outcome.code ?? `HTTP_${outcome.status}`;
    samples.errors[code] = (samples.errors[code] ?? 0) + 1;
  }
};

export interface SweepContext {
  /** Prefix of every aggregate id of this run (unique, so deployed tables can be reused). */
  readonly runId: string;
  readonly settings: BenchSettings;
  readonly progress: Progress;
  /**
   * Before each round of a sequential sweep (one client; history), an unmeasured pause of a
   * random 0..phaseJitterMs: commands then reach a stream poller at a random point of its
   * cycle. Without it, a round that lasts about one poll interval locks onto the poller's
   * phase and biases the decoupled visible latency. 0: no pause.
   */
  readonly phaseJitterMs: number;
  /** Waits until the stacks' projectors have caught up (bench/targets.ts Target.settle). */
  readonly settle?: () => Promise<number>;
}

const phasePause = (ctx: SweepContext) =>
  ctx.phaseJitterMs > 0
    ? new Promise<void>((r) => setTimeout(r, Math.random() * ctx.phaseJitterMs))
    : Promise.resolve();

/** Times `turn` and adds its wall time to `samples`. */
const timed = async (samples: Samples, turn: () => Promise<unknown>) => {
  const started = performance.now();
  await turn();
  samples.durationMs += performance.now() - started;
};

/**
 * Unrecorded commands per runner, interleaved (failing loudly when a runner does not work),
 * then a concurrent burst per runner.
 */
export const warmUp = async (runners: readonly Runner[], ctx: SweepContext): Promise<void> => {
  const sessions = runners.map(
    (r) => new OrderSession(`${ctx.runId}-${r.tag}-warm`, ctx.settings.commandsPerOrder),
  );
  for (let i = 0; i < ctx.settings.warmupCommands; i++) {
    for (const index of rotate(
      runners.map((_, k) => k),
      i,
    )) {
      const runner = runners[index]!;
      const { aggregateId, command } = sessions[index]!.next();
      const outcome = await runner.execute(aggregateId, command, { visible: true });
      if (!outcome.ok) {
        throw new Error(
          `${runner.name} failed during warm-up: ${command.type} on ${aggregateId} answered ${outcome.status} ${outcome.code ?? ''}`.trim(),
        );
      }
      ctx.progress.tick();
    }
  }
  // Then a concurrent burst per runner, so DynamoDB Local's JVM (and V8) have compiled
  // their hot paths before anything is measured.
  const { clients, commandsPerClient } = ctx.settings.warmupBurst;
  for (const runner of runners) {
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const session = new OrderSession(
          `${ctx.runId}-${runner.tag}-burst-c${c}`,
          ctx.settings.commandsPerOrder,
        );
        for (let k = 0; k < commandsPerClient; k++) {
          const { aggregateId, command } = session.next();
          await runner.execute(aggregateId, command, { visible: true });
          ctx.progress.tick();
        }
      }),
    );
  }
};

export interface LevelSamples {
  readonly level: ConcurrencyLevel;
  readonly samples: Map<string, Samples>;
}

/**
 * `clients` clients per runner, each on its own orders, each sending a command and (with a
 * visible measurement) waiting until it can read it before the next one. The runners take
 * turns; a turn is `commandsPerClient / rounds` commands per client.
 */
export const runConcurrencyLevel = async (
  runners: readonly Runner[],
  level: ConcurrencyLevel,
  levelIndex: number,
  ctx: SweepContext,
): Promise<LevelSamples> => {
  const samples = new Map(runners.map((r) => [r.name, newSamples()]));
  const sessions = runners.map((r) =>
    Array.from(
      { length: level.clients },
      (_, c) =>
        new OrderSession(
          `${ctx.runId}-${r.tag}-k${level.clients}-c${c}`,
          ctx.settings.commandsPerOrder,
        ),
    ),
  );
  const indices = runners.map((_, k) => k);
  for (const [round, size] of turnSizes(level).entries()) {
    if (level.clients === 1) await phasePause(ctx);
    for (const index of rotate(indices, round + levelIndex)) {
      const runner = runners[index]!;
      const into = samples.get(runner.name)!;
      await timed(into, () =>
        Promise.all(
          sessions[index]!.map(async (session) => {
            for (let k = 0; k < size; k++) {
              const { aggregateId, command } = session.next();
              // The observer's tight reads only where they load nothing else: one client.
              record(
                into,
                await runner.execute(aggregateId, command, {
                  visible: true,
                  observe: level.clients === 1,
                }),
              );
              ctx.progress.tick();
            }
          }),
        ),
      );
    }
  }
  return { level, samples };
};

export type ContentionMode = 'retry' | 'expectedVersion';

export interface ContentionCounts {
  attempts: number;
  successes: number;
  /** 409 VERSION_CONFLICT answers. */
  conflicts: number;
  /** 503 TRANSACTION_CONFLICT answers. */
  transactionConflicts: number;
  otherErrors: number;
  /** Sum of `x-command-retries` over the successful commands. */
  retries: number;
  readonly samples: Samples;
}

/**
 * `clients` clients send changeQuantity to ONE order at once. Mode `retry`: without
 * expectedVersion, the server retries lost races (bounded, then 409). Mode `expectedVersion`:
 * each client sends the version it last saw; a stale one is a 409 at once, and the client
 * takes the actual version from the answer. Ack latency only: no client waits for the read
 * model here, so every profile sees the same write contention.
 */
export const runContention = async (
  profiles: readonly Runner[],
  mode: ContentionMode,
  modeIndex: number,
  ctx: SweepContext,
): Promise<Map<string, ContentionCounts>> => {
  const { clients, attemptsPerClient, rounds } = ctx.settings.contention;
  const counts = new Map<string, ContentionCounts>(
    profiles.map((p) => [
      p.name,
      {
        attempts: 0,
        successes: 0,
        conflicts: 0,
        transactionConflicts: 0,
        otherErrors: 0,
        retries: 0,
        samples: newSamples(),
      },
    ]),
  );
  const indices = profiles.map((_, k) => k);
  for (let round = 0; round < rounds; round++) {
    for (const index of rotate(indices, round + modeIndex)) {
      const runner = profiles[index]!;
      const into = counts.get(runner.name)!;
      const aggregateId = `${ctx.runId}-${runner.tag}-${mode === 'retry' ? 'cr' : 'ce'}-r${round}`;
      await runner.prepare(aggregateId, 2);
      await timed(into.samples, () =>
        Promise.all(
          Array.from({ length: clients }, async (_, client) => {
            let known = 2;
            for (let attempt = 0; attempt < attemptsPerClient; attempt++) {
              const outcome = await runner.execute(
                aggregateId,
                changeQuantity(FIRST_LINE, ((client * 7 + attempt) % 50) + 1),
                { visible: false, ...(mode === 'expectedVersion' && { expectedVersion: known }) },
              );
              into.attempts++;
              if (outcome.ok) {
                into.successes++;
                into.retries += outcome.retries;
                known = outcome.version ?? known;
              } else if (outcome.status === 409 && outcome.code === 'VERSION_CONFLICT') {
                into.conflicts++;
                known = outcome.actualVersion ?? known;
              } else if (outcome.status === 503 && outcome.code === 'TRANSACTION_CONFLICT') {
                into.transactionConflicts++;
              } else {
                into.otherErrors++;
              }
              record(into.samples, outcome);
              ctx.progress.tick();
            }
          }),
        ),
      );
    }
  }
  return counts;
};

/** A command on a history order that is not measured: the first, or one nudging its snapshot. */
const unrecordedCommand = (runner: Runner, id: string) =>
  runner.execute(id, changeQuantity(FIRST_LINE, 1), { visible: true });

/**
 * Unrecorded commands an order gets, at most, after its first, each when its snapshot is still
 * missing at the end of a wait (SNAPSHOT_WAIT): a failed snapshot write is started again by the
 * next command, as for a live order.
 */
export const SNAPSHOT_NUDGES = 3;

/**
 * Waits until each order's snapshot covering its seeded history is stored, nudging an order
 * whose snapshot has not come with one more unrecorded command. One still missing after that
 * is measured as it is, with a warning (its commands may then carry a snapshot write).
 */
const leaveSnapshotsStored = async (
  runners: readonly Runner[],
  ids: readonly (readonly string[])[],
  length: number,
  ctx: SweepContext,
) => {
  let missing = runners.flatMap((runner, index) =>
    runner.snapshotStored ? ids[index]!.map((id) => ({ runner, id })) : [],
  );
  for (let nudges = 0; missing.length > 0; nudges++) {
    const stored = await Promise.all(
      missing.map(({ runner, id }) => runner.snapshotStored!(id, length + 1)),
    );
    missing = missing.filter((_, k) => !stored[k]);
    if (missing.length === 0) return;
    if (nudges === SNAPSHOT_NUDGES) {
      ctx.progress.log(
        `warning: history ${length}: no snapshot stored for ${missing.map(({ runner, id }) => `${id} (${runner.name})`).join(', ')} after ${SNAPSHOT_NUDGES} more commands; measured as it is`,
      );
      return;
    }
    await Promise.all(missing.map(({ runner, id }) => unrecordedCommand(runner, id)));
  }
};

/**
 * For one history length: every runner gets its orders of that many events (`historyPlan`:
 * fewer at long histories; built concurrently, plus one unrecorded command that leaves the
 * snapshot), waits for that snapshot to be stored and for the projectors to catch up, then
 * sends the planned changeQuantity commands round-robin over its orders, interleaved,
 * measuring ack and visible latency.
 */
export const runHistoryLength = async (
  runners: readonly Runner[],
  length: number,
  lengthIndex: number,
  ctx: SweepContext,
  onBuilt?: () => void,
): Promise<Map<string, Samples>> => {
  const { orders, samples: planned } = historyPlan(ctx.settings.history, length);
  const ids = runners.map((r) =>
    Array.from({ length: orders }, (_, o) => `${ctx.runId}-${r.tag}-h${length}-o${o}`),
  );
  await Promise.all(
    runners.flatMap((runner, index) => ids[index]!.map((id) => runner.prepare(id, length))),
  );
  // One unrecorded command per order: it reads the seeded history whole (seeding writes no
  // snapshot) and leaves the snapshot a live order of that length would have.
  await Promise.all(
    runners.flatMap((runner, index) => ids[index]!.map((id) => unrecordedCommand(runner, id))),
  );
  // That snapshot covers the whole seeded history, so its write first records a marker for each
  // of its commands (400 BatchWriteItems at 10,000 events). A stack answers within its snapshot
  // budget and goes on writing after the answer; the floor waits for its own. Measured while
  // those writes could still run, a stack's commands at 10,000 events read p95 91 to 216 ms
  // against the floor's 41 to 54: every order is left as a lived one is, its snapshot stored.
  if (length + 1 >= DEFAULT_SNAPSHOT_EVERY && runners.some((r) => r.snapshotStored)) {
    ctx.progress.phase(`history ${length}: waiting for the snapshots to be stored`);
    await leaveSnapshotsStored(runners, ids, length, ctx);
  }
  // The projectors replay what was seeded (thousands of events at once, as no live order
  // receives them): the commands are measured after that, not during it.
  if (ctx.settle) {
    ctx.progress.phase(`history ${length}: waiting for the projectors to catch up`);
    await ctx.settle();
  }
  onBuilt?.();
  const samples = new Map(runners.map((r) => [r.name, newSamples()]));
  const indices = runners.map((_, k) => k);
  for (let k = 0; k < planned; k++) {
    await phasePause(ctx);
    const order = k % orders;
    for (const index of rotate(indices, k + lengthIndex)) {
      const runner = runners[index]!;
      const into = samples.get(runner.name)!;
      await timed(into, async () =>
        record(
          into,
          await runner.execute(ids[index]![order]!, changeQuantity(FIRST_LINE, (k % 9) + 1), {
            visible: true,
          }),
        ),
      );
      ctx.progress.tick();
    }
  }
  return samples;
};
