/** How much the benchmark measures: the default run (about 8 minutes) and `--quick` (about 1.5). */

export interface ConcurrencyLevel {
  /** Clients running at once, each on its own orders. */
  readonly clients: number;
  /** Commands each client sends (and, in decoupled profiles, waits to see). */
  readonly commandsPerClient: number;
  /**
   * The profiles take turns `rounds` times per level, each turn `commandsPerClient / rounds`
   * commands per client, so noise hits every profile alike.
   */
  readonly rounds: number;
}

export interface BenchSettings {
  readonly quick: boolean;
  /** Unrecorded commands per profile (and floor) before anything is measured. */
  readonly warmupCommands: number;
  /** Then an unrecorded burst per profile (and floor): clients x commands per client. */
  readonly warmupBurst: { readonly clients: number; readonly commandsPerClient: number };
  /** A client starts a new order after this many commands (create, 3 x addLine, changeQuantity...). */
  readonly commandsPerOrder: number;
  readonly concurrency: readonly ConcurrencyLevel[];
  readonly contention: {
    /** Clients writing to one order at once. */
    readonly clients: number;
    /** Commands each client sends per round. */
    readonly attemptsPerClient: number;
    /** Rounds per mode and profile, each on a fresh order. */
    readonly rounds: number;
  };
  /** Client-visible latency (bench/client-latency.ts): one client, sequential, per profile. */
  readonly clientLatency: {
    /** Measured commands per profile on each path (client library, bare fetch). */
    readonly commands: number;
    /** Unrecorded commands per profile and path first. */
    readonly warmup: number;
  };
  /**
   * Push latency and fan-out (bench/push-latency.ts), where the stacks' WebSockets are known.
   * The fan-out's subscribers sign in as several users (each may hold 10 sockets): locally
   * admin, support and the order's customer, so at most 30.
   */
  readonly push: {
    /** Measured commands per profile: A's dispatch -> B's store shows it. */
    readonly commands: number;
    /** Unrecorded commands per profile first. */
    readonly warmup: number;
    /** One writer, `subscribers` followers of one order, `rounds` measured commands. */
    readonly fanout: { readonly subscribers: number; readonly rounds: number };
  };
  /**
   * The fulfilment workflow's latency (bench/workflow-latency.ts): per profile, one order at a
   * time, from `order/submit` sent until a GET of the order shows it confirmed.
   */
  readonly workflow: {
    /** Measured orders per profile; 0 skips the sweep (`--workflow-orders`). */
    readonly orders: number;
    /** Unrecorded orders per profile first. */
    readonly warmup: number;
    /** Lines per order, each of its own SKU: the workflow reserves each before it confirms. */
    readonly linesPerOrder: number;
  };
  /** What a token check costs (bench/probes/token-cost.ts): verifications, one at a time. */
  readonly tokenVerification: {
    /** Measured calls. */
    readonly calls: number;
    /** Unrecorded calls first. */
    readonly warmup: number;
  };
  readonly history: {
    /** Events already in the order before the measured commands. */
    readonly lengths: readonly number[];
    /** Orders built per length and profile. */
    readonly ordersPerLength: number;
    /** Measured commands per order (the history grows by one with each). */
    readonly commandsPerOrder: number;
    /**
     * At most this many seeded events per runner and length: fewer orders at long histories,
     * each taking more of the measured commands (the samples stay ordersPerLength x
     * commandsPerOrder). Seeding is the slow part of the sweep (historyPlan).
     */
    readonly maxSeededEvents: number;
  };
}

export const DEFAULT_SETTINGS: BenchSettings = {
  quick: false,
  warmupCommands: 10,
  // Each stack is its own process (bench/runtime-process.ts): 400 commands per runner warm its
  // V8 and the JVM before anything is measured.
  warmupBurst: { clients: 16, commandsPerClient: 25 },
  commandsPerOrder: 10,
  concurrency: [
    { clients: 1, commandsPerClient: 100, rounds: 100 },
    { clients: 4, commandsPerClient: 24, rounds: 6 },
    { clients: 16, commandsPerClient: 8, rounds: 2 },
    { clients: 64, commandsPerClient: 5, rounds: 2 },
  ],
  contention: { clients: 16, attemptsPerClient: 4, rounds: 3 },
  clientLatency: { commands: 60, warmup: 5 },
  push: { commands: 60, warmup: 5, fanout: { subscribers: 30, rounds: 20 } },
  // About a second a round of the three profiles on a quiet machine (building the order, the
  // random pause and the 250 ms stream polls): ~30 s.
  workflow: { orders: 25, warmup: 3, linesPerOrder: 3 },
  tokenVerification: { calls: 5000, warmup: 500 },
  history: {
    lengths: [10, 100, 1000, 10_000],
    ordersPerLength: 5,
    commandsPerOrder: 5,
    maxSeededEvents: 10_000,
  },
};

export const QUICK_SETTINGS: BenchSettings = {
  quick: true,
  warmupCommands: 3,
  warmupBurst: { clients: 8, commandsPerClient: 3 },
  commandsPerOrder: 10,
  concurrency: [
    { clients: 1, commandsPerClient: 10, rounds: 10 },
    { clients: 4, commandsPerClient: 3, rounds: 2 },
    { clients: 16, commandsPerClient: 2, rounds: 1 },
    { clients: 64, commandsPerClient: 1, rounds: 1 },
  ],
  contention: { clients: 16, attemptsPerClient: 2, rounds: 1 },
  clientLatency: { commands: 10, warmup: 2 },
  push: { commands: 10, warmup: 2, fanout: { subscribers: 30, rounds: 3 } },
  workflow: { orders: 5, warmup: 1, linesPerOrder: 3 },
  tokenVerification: { calls: 1000, warmup: 200 },
  history: {
    // 1,000 and 10,000 only in the default run: seeding 1,000 took 14 of --quick's 110 s.
    lengths: [10, 100],
    ordersPerLength: 2,
    commandsPerOrder: 2,
    maxSeededEvents: 10_000,
  },
};

/** Commands per client per turn at a level (the last turn takes the remainder). */
export const turnSizes = (level: ConcurrencyLevel): number[] => {
  const rounds = Math.max(1, Math.min(level.rounds, level.commandsPerClient));
  const base = Math.floor(level.commandsPerClient / rounds);
  return Array.from({ length: rounds }, (_, i) =>
    i === rounds - 1 ? level.commandsPerClient - base * (rounds - 1) : base,
  );
};

/**
 * The orders each runner gets at one history length, and the measured commands (samples): as
 * many orders as `maxSeededEvents` allows, at least one, at most `ordersPerLength`; the samples
 * are the same at every length (10,000 events: one order takes all 25 commands).
 */
export const historyPlan = (history: BenchSettings['history'], length: number) => ({
  orders: Math.max(
    1,
    Math.min(history.ordersPerLength, Math.floor(history.maxSeededEvents / Math.max(1, length))),
  ),
  samples: history.ordersPerLength * history.commandsPerOrder,
});
