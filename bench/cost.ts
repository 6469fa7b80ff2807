/**
 * What a command costs: DynamoDB read and write request units per command (per table, so the
 * decoupled projector's writes show apart from the command's), dollars per million commands at
 * on-demand prices, and the CPU time of the process that serves it. Each runner in turn, alone:
 * its stack process (or, for a floor, this process) is read before and after a block of
 * sequential commands, in rounds whose first runner rotates, summed per runner
 * (docs/benchmark.md, "Cost and CPU per command").
 */
import {
  type CapacitySnapshot,
  capacityPlus,
  capacitySince,
  capacityTotals,
} from '../lambdas/core/shared/consumed-capacity';
import { OrderSession } from './orders';
import type { Runner } from './runners';

/** A process's CPU time so far (user + system, µs) and its DynamoDB meter. */
export interface ProcessUsage {
  readonly cpuMicros: number;
  readonly capacity: CapacitySnapshot;
}

/** Where a runner's usage is read: its stack process, or this process for a floor. */
export interface UsageProbe {
  /** `runtime process <pid>` or `bench process (floor)`. */
  readonly process: string;
  readonly usage: () => Promise<ProcessUsage | undefined>;
  /** Table name -> what it holds (`event`, `projections`...), to name the per-table units. */
  readonly tables: Readonly<Record<string, string>>;
}

/**
 * DynamoDB on-demand throughput, Standard table class, us-east-1 (US East, N. Virginia), in US
 * dollars per million request units: the prices since AWS halved on-demand throughput prices on
 * 2024-11-01, checked 2026-12-06. Source: https://aws.amazon.com/dynamodb/pricing/on-demand/
 * (a write request unit is one write of up to 1 KB; a read request unit one strongly consistent
 * read of up to 4 KB, or two eventually consistent ones).
 */
export const ON_DEMAND_PRICES = {
  region: 'us-east-1',
  tableClass: 'Standard',
  writePerMillionUnits: 0.625,
  readPerMillionUnits: 0.125,
  checked: '2026-12-06',
  source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
} as const;

export type Prices = Pick<typeof ON_DEMAND_PRICES, 'writePerMillionUnits' | 'readPerMillionUnits'>;

/** Dollars per million commands that consume these units each. */
export const dollarsPerMillionCommands = (
  perCommand: { readUnits: number; writeUnits: number },
  prices: Prices = ON_DEMAND_PRICES,
): number =>
  perCommand.readUnits * prices.readPerMillionUnits +
  perCommand.writeUnits * prices.writePerMillionUnits;

export interface UnitsAndCalls {
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly calls: number;
}

export interface TableCost extends UnitsAndCalls {
  /** The same per operation (`PutItem`, `TransactWriteItems`...): the write shape of a command. */
  readonly operations: Record<string, UnitsAndCalls>;
}

export interface RunnerCost {
  /** Where it was measured (`runtime process 1234`, `bench process (floor)`). */
  readonly process: string;
  readonly commands: number;
  readonly errors: number;
  /** Per command, all tables. */
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly calls: number;
  /** Per command, by table (`event`, `projections`, `snapshots`...). */
  readonly tables: Record<string, TableCost>;
  /** Per command, by operation (`PutItem`, `Query`...): calls. */
  readonly operations: Record<string, number>;
  /** Share of the calls whose units were computed from the request (DynamoDB Local's gaps). */
  readonly computedShare: number;
  readonly dollarsPerMillionCommands: number;
  /** CPU ms per command of the serving process, less its idle rate over the block. */
  readonly cpuMsPerCommand: number | null;
  /** CPU ms per command before the idle rate is taken off. */
  readonly grossCpuMsPerCommand: number | null;
  /** The process's CPU ms per second while no command runs (pollers, timers). */
  readonly idleCpuMsPerSecond: number | null;
  /** Wall time of the block of commands. */
  readonly durationMs: number;
}

export interface CostResult {
  readonly method: string;
  readonly prices: typeof ON_DEMAND_PRICES;
  readonly commandsPerRunner: number;
  readonly runners: Record<string, RunnerCost>;
  /**
   * The coupled function as a Lambda instance runs it against its floor, taking turns command by
   * command (local runs: the figure the CPU target reads), the same function behind its local
   * gateway beside them. Absent where there are no such processes (deployed stacks).
   */
  readonly turns?: CpuInTurns;
}

export const COST_METHOD =
  'in rounds (3; `--quick`: 1), the runner going first rotating every round, each runner alone, in turn: the projectors caught up, its process idle for 1 s (`--quick`: 0.25 s; its idle CPU rate, measured again after the block and averaged), then N sequential commands of the usual mix (create, add lines, change quantities; a stack’s answered, not read back; a floor’s through its projector), then the projectors caught up again; each runner’s rounds summed. Units = the difference of the serving process’s DynamoDB meter (every call asks for ReturnConsumedCapacity TOTAL; the units DynamoDB Local reports wrongly, TransactWriteItems and failed conditions, are computed from the request by AWS’s rules) over the commands; dollars at on-demand prices; CPU = process.cpuUsage() (user + system) of the stack’s runtime process (a floor: the bench process) over the commands and until the projectors caught up, less the idle rate over that time. `coupled-function` (local runs): the coupled function and its gateway alone in a runtime process with no stream function (no poller: its idle rate is about 0), on tables of its own, warmed up again just before this block.';

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A table the stack does not name (subscriptions...): the last part of its name. */
const roleOfName = (table: string) => table.split('-').at(-1) ?? table;

/** CPU ms per command once the idle rate (ms per second) over `durationMs` is taken off. */
export const netCpuMsPerCommand = (
  cpuMs: number,
  idleCpuMsPerSecond: number,
  durationMs: number,
  commands: number,
) => Math.max(0, (cpuMs - (idleCpuMsPerSecond * durationMs) / 1000) / commands);

/** Per-command figures from what a block consumed (pure: unit-tested). */
export const costOf = (input: {
  process: string;
  commands: number;
  errors: number;
  consumed: CapacitySnapshot;
  tables: Readonly<Record<string, string>>;
  cpuMs?: number;
  idleCpuMsPerSecond?: number;
  durationMs: number;
  prices?: Prices;
}): RunnerCost => {
  const n = Math.max(input.commands, 1);
  const totals = capacityTotals(input.consumed);
  type Sums = { readUnits: number; writeUnits: number; calls: number };
  const add = (into: Sums, usage: Sums) => {
    into.readUnits += usage.readUnits;
    into.writeUnits += usage.writeUnits;
    into.calls += usage.calls;
  };
  const zero = (): Sums => ({ readUnits: 0, writeUnits: 0, calls: 0 });
  const tables: Record<string, Sums & { operations: Record<string, Sums> }> = {};
  const operations: Record<string, number> = {};
  let computed = 0;
  for (const [table, ops] of Object.entries(input.consumed)) {
    const role = input.tables[table] ?? roleOfName(table);
    const into = (tables[role] ??= { ...zero(), operations: {} });
    for (const [operation, usage] of Object.entries(ops)) {
      add(into, usage);
      add((into.operations[operation] ??= zero()), usage);
      operations[operation] = (operations[operation] ?? 0) + usage.calls;
      computed += usage.computedCalls;
    }
  }
  const perCommandOf = (sums: Sums): UnitsAndCalls => ({
    readUnits: round(sums.readUnits / n),
    writeUnits: round(sums.writeUnits / n),
    calls: round(sums.calls / n),
  });
  const perCommand = {
    readUnits: round(totals.readUnits / n),
    writeUnits: round(totals.writeUnits / n),
  };
  const gross = input.cpuMs === undefined ? null : input.cpuMs / n;
  const idle = input.idleCpuMsPerSecond ?? null;
  const net =
    input.cpuMs === undefined
      ? null
      : netCpuMsPerCommand(input.cpuMs, idle ?? 0, input.durationMs, n);
  return {
    process: input.process,
    commands: input.commands,
    errors: input.errors,
    ...perCommand,
    calls: round(totals.calls / n),
    tables: Object.fromEntries(
      Object.entries(tables).map(([role, t]) => [
        role,
        {
          ...perCommandOf(t),
          operations: Object.fromEntries(
            Object.entries(t.operations).map(([operation, o]) => [operation, perCommandOf(o)]),
          ),
        },
      ]),
    ),
    operations: Object.fromEntries(
      Object.entries(operations).map(([operation, calls]) => [operation, round(calls / n)]),
    ),
    computedShare: totals.calls > 0 ? round(computed / totals.calls) : 0,
    dollarsPerMillionCommands: round(dollarsPerMillionCommands(perCommand, input.prices), 4),
    cpuMsPerCommand: net === null ? null : round(net),
    grossCpuMsPerCommand: gross === null ? null : round(gross),
    idleCpuMsPerSecond: idle === null ? null : round(idle),
    durationMs: Math.round(input.durationMs),
  };
};

/** Commands per runner in each round of the cost block. */
export const costCommands = (quick: boolean) => (quick ? 20 : 60);

/** Rounds of the cost block (each runner's `costCommands` per round). */
export const costRounds = (quick: boolean) => (quick ? 1 : 3);

/** How long each process is watched idle, before and after its block (ms): `--quick` a quarter. */
export const idleWindowMs = (quick: boolean) => (quick ? 250 : 1_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process's CPU ms per second over `windowMs` with no command running. */
export const idleCpuMsPerSecond = async (
  probe: UsageProbe,
  windowMs: number,
): Promise<number | undefined> => {
  const from = await probe.usage();
  await sleep(windowMs);
  const to = await probe.usage();
  return from && to ? (to.cpuMicros - from.cpuMicros) / windowMs : undefined;
};

/** What one runner's block of commands consumed (summed over the rounds). */
interface Block {
  readonly commands: number;
  readonly errors: number;
  readonly consumed: CapacitySnapshot;
  readonly cpuMs: number;
  /** The idle rate times the block's wall time: the CPU its process burns with no command. */
  readonly idleCpuMs: number;
  readonly durationMs: number;
}

const plus = (a: Block | undefined, b: Block): Block =>
  a === undefined
    ? b
    : {
        commands: a.commands + b.commands,
        errors: a.errors + b.errors,
        consumed: capacityPlus(a.consumed, b.consumed),
        cpuMs: a.cpuMs + b.cpuMs,
        idleCpuMs: a.idleCpuMs + b.idleCpuMs,
        durationMs: a.durationMs + b.durationMs,
      };

/** `items` starting at `round` (mod length): who goes first rotates every round. */
export const rotated = <T>(items: readonly T[], round: number): T[] =>
  items.length === 0
    ? []
    : [...items.slice(round % items.length), ...items.slice(0, round % items.length)];

/**
 * The cost block: per round, each runner with a probe alone, `commands` sequential commands;
 * `rounds` rounds (default 1), the runner going first rotating, so a slow minute of the machine
 * does not land on one runner. `settle` waits until the stacks' projectors have caught up
 * (their writes belong to the commands).
 */
export const measureCost = async (
  runners: readonly Runner[],
  probes: Readonly<Record<string, UsageProbe>>,
  options: {
    runId: string;
    /** Commands per runner per round. */
    commands: number;
    commandsPerOrder: number;
    settle: () => Promise<unknown>;
    onCommand?: () => void;
    /** The idle window (ms). @default idleWindowMs(false) */
    idleMs?: number;
    /** @default 1 */
    rounds?: number;
  },
): Promise<CostResult> => {
  const idleMs = options.idleMs ?? idleWindowMs(false);
  const rounds = options.rounds ?? 1;
  const measured = runners.filter((runner) => probes[runner.name]);
  // One session per runner for the whole block: its orders go on from round to round.
  const sessions = new Map(
    measured.map((runner) => [
      runner.name,
      new OrderSession(`${options.runId}-${runner.tag}-cost`, options.commandsPerOrder),
    ]),
  );
  const blocks = new Map<string, Block>();
  // Whether the stacks have caught up since the last command: a block's closing settle serves
  // as the next block's opening one (nothing runs in between but idle windows).
  let settled = false;

  const measureBlock = async (runner: Runner, probe: UsageProbe): Promise<Block | undefined> => {
    if (!settled) await options.settle();
    settled = false;
    const idleBefore = await idleCpuMsPerSecond(probe, idleMs);
    const start = await probe.usage();
    if (idleBefore === undefined || !start) return undefined;
    const session = sessions.get(runner.name)!;
    let errors = 0;
    const started = performance.now();
    for (let i = 0; i < options.commands; i++) {
      const { aggregateId, command } = session.next();
      // A stack's command is answered, not read back: the `?minVersion` query's reads while it
      // waits are the reader's cost, not the command's. A floor's visible path is its projector.
      const outcome = await runner.execute(aggregateId, command, {
        visible: runner.kind.startsWith('floor'),
      });
      if (!outcome.ok) errors++;
      options.onCommand?.();
    }
    // The projector's, notifier's and workflows' work of the commands lands after their answers.
    await options.settle();
    settled = true;
    const durationMs = performance.now() - started;
    const end = await probe.usage();
    // The idle rate before and after, averaged: pollers and timers drift over a run.
    const idleAfter = await idleCpuMsPerSecond(probe, idleMs);
    if (!end || idleAfter === undefined) return undefined;
    return {
      commands: options.commands,
      errors,
      consumed: capacitySince(end.capacity, start.capacity),
      // The block's wall time includes the settle: its idle polling is taken off with the rest.
      cpuMs: (end.cpuMicros - start.cpuMicros) / 1000,
      idleCpuMs: (((idleBefore + idleAfter) / 2) * durationMs) / 1000,
      durationMs,
    };
  };

  for (let round = 0; round < rounds; round++) {
    for (const runner of rotated(measured, round)) {
      const block = await measureBlock(runner, probes[runner.name]!);
      if (block) blocks.set(runner.name, plus(blocks.get(runner.name), block));
    }
  }
  const figures: Record<string, RunnerCost> = {};
  for (const runner of measured) {
    const block = blocks.get(runner.name);
    const probe = probes[runner.name]!;
    if (!block) continue;
    figures[runner.name] = costOf({
      process: probe.process,
      commands: block.commands,
      errors: block.errors,
      consumed: block.consumed,
      tables: probe.tables,
      cpuMs: block.cpuMs,
      idleCpuMsPerSecond: block.durationMs > 0 ? (block.idleCpuMs * 1000) / block.durationMs : 0,
      durationMs: block.durationMs,
    });
  }
  return {
    method: COST_METHOD,
    prices: ON_DEMAND_PRICES,
    commandsPerRunner: options.commands * rounds,
    runners: figures,
  };
};

/** Table name -> role (`eventTable` -> `event`) of a stack's tables. */
export const tableRoles = (tables: object | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(tables ?? {}).flatMap(([role, name]) =>
      typeof name === 'string' ? [[name, role.replace(/Table$/, '')]] : [],
    ),
  );

/** One block's per-command figures (see CpuInTurns). */
export interface TurnsBlock {
  readonly subjectCpuMsPerCommand: number;
  readonly floorCpuMsPerCommand: number;
  readonly ratio: number;
}

/**
 * CPU per command of one runner (and any read beside it) against its floor, all taking turns
 * command by command. The subject is the coupled function as a Lambda instance runs it: on AWS,
 * the gateway's HTTP exchange, routing and token check are API Gateway's work, not the
 * function's (docs/decisions/cpu-target-reads-the-invoked-function.md). The cost block measures
 * each runner in blocks of its own: the figures of two runners then come from different seconds
 * of a shared machine, and the floor's process (this one: the client of every other block)
 * never idles while a stack's process sleeps between its blocks.
 * Taking turns gives both the same seconds and the same rhythm; it is the figure the CPU target
 * reads (docs/benchmark.md, "Cost and CPU per command"). Every side is a process of its own
 * (./runner-process.ts; the function behind its gateway: a runtime process), read whole over a
 * block.
 */
export interface CpuInTurns extends TurnsBlock {
  readonly method: string;
  /** Commands per runner, all blocks together. */
  readonly commands: number;
  readonly errors: number;
  readonly subject: string;
  readonly floor: string;
  /**
   * Each block's figures, in order: how much the reading moves within one run. The totals
   * (`subjectCpuMsPerCommand`, `floorCpuMsPerCommand`, `ratio`) are over all blocks' commands.
   * Each side's: its process over the whole block (all it did, less its idle rate). Absent from
   * results written before blocks (one block then).
   */
  readonly blocks?: readonly TurnsBlock[];
  /**
   * Runners read in the same turns, each against the same floor: locally, `coupled-function`,
   * the coupled function behind its local gateway (HTTP, routing, the token check) in a runtime
   * process. Absent from results written before 2026-12-08, when that was the subject.
   */
  readonly alongside?: readonly (TurnsBlock & {
    readonly subject: string;
    readonly blocks: readonly TurnsBlock[];
  })[];
}

export const CPU_IN_TURNS_METHOD =
  'the coupled function as a Lambda instance runs it (its handler, wired as the local runtime wires it, in a process of its own, handed each command’s payload 2.0 event and the caller’s claims over an IPC channel, as Lambda’s runtime hands an instance its event; no gateway, no HTTP), the same function behind its local gateway (`coupled-function`: its runtime process with no stream function, the HTTP exchange, routing and the token check included) and its floor alone (the same DynamoDB calls sent raw from a process of their own, each command handed over an IPC channel) taking turns command by command, the one going first rotating, first 100 unrecorded rounds (`--quick`: 10: the cost block before measures only the second of them, the other two idle through it), then 3 blocks of 300 commands each (`--quick`: 1 of 40); each side’s CPU is its process’s process.cpuUsage() (user + system, every thread) from before a block’s first command to after its last, so work landing between its commands counts too, less its idle rate, the lower of the two measured for 1 s before and after the block (`--quick`: 0.25 s; a burst in one window, such as V8 tidying its heap once a process falls idle, is not idling); the figures are over all blocks’ commands, each block’s ratio beside them.';

/** Commands per runner in one block of the CPU-in-turns measurement. */
export const cpuInTurnsCommands = (quick: boolean) => (quick ? 40 : 300);

/** Unrecorded rounds of turns before the first block of the CPU-in-turns measurement. */
export const cpuInTurnsWarmUp = (quick: boolean) => (quick ? 10 : 100);

/** Blocks of the CPU-in-turns measurement. */
export const cpuInTurnsBlocks = (quick: boolean) => (quick ? 1 : 3);

/** What one side (a subject or the floor) consumed in a block, and the time of its idle rate. */
interface SideUsage {
  readonly cpuMs: number;
  /** Its idle rate, ms per second. */
  readonly idle: number;
  readonly ms: number;
}

/** What one block consumed: each subject's side, in order, and the floor's. */
interface TurnsBlockUsage {
  readonly subjects: readonly SideUsage[];
  readonly floor: SideUsage;
  readonly commands: number;
  readonly errors: number;
}

/** Subject `which`'s per-command figures against the floor over these blocks (pure). */
const turnsFigures = (blocks: readonly TurnsBlockUsage[], which = 0): TurnsBlock => {
  const n = blocks.reduce((sum, b) => sum + b.commands, 0);
  const net = (side: (b: TurnsBlockUsage) => SideUsage) =>
    blocks.reduce((sum, b) => {
      const { cpuMs, idle, ms } = side(b);
      return sum + netCpuMsPerCommand(cpuMs, idle, ms, n);
    }, 0);
  const subjectCpu = net((b) => b.subjects[which]!);
  const floorCpu = net((b) => b.floor);
  return {
    subjectCpuMsPerCommand: round(subjectCpu),
    floorCpuMsPerCommand: round(floorCpu),
    ratio: round(floorCpu > 0 ? subjectCpu / floorCpu : Number.NaN),
  };
};

export const measureCpuInTurns = async (
  subject: Runner,
  floor: Runner,
  probes: Readonly<Record<string, UsageProbe>>,
  options: {
    runId: string;
    /** Commands per runner in each block. */
    commands: number;
    /** @default 1 */
    blocks?: number;
    commandsPerOrder: number;
    onCommand?: () => void;
    /** The idle windows before and after each block (ms). @default idleWindowMs(false) */
    idleMs?: number;
    /** Runners read in the same turns, each against the same floor (CpuInTurns.alongside). */
    alongside?: readonly Runner[];
    /**
     * Unrecorded rounds of turns before the first block (@default 0): the runners idle through
     * the cost block, all but the one it measures (cpuInTurnsWarmUp).
     */
    warmUp?: number;
  },
): Promise<CpuInTurns | undefined> => {
  const subjects = [subject, ...(options.alongside ?? [])];
  const runners = [...subjects, floor];
  const sideProbes = runners.map((runner) => probes[runner.name]);
  if (sideProbes.includes(undefined)) return undefined;
  const idleMs = options.idleMs ?? idleWindowMs(false);
  const sessions = runners.map(
    (runner) => new OrderSession(`${options.runId}-${runner.tag}-turns`, options.commandsPerOrder),
  );
  // Every side's idle rate over the same window.
  const idleRates = () =>
    Promise.all(sideProbes.map((probe) => idleCpuMsPerSecond(probe!, idleMs)));
  const usage = () => Promise.all(sideProbes.map((probe) => probe!.usage()));
  /** `commands` rounds, each runner once per round, the one going first rotating; the errors. */
  const takeTurns = async (commands: number) => {
    let errors = 0;
    for (let i = 0; i < commands; i++) {
      for (let k = 0; k < runners.length; k++) {
        const which = (k + i) % runners.length;
        const { aggregateId, command } = sessions[which]!.next();
        // All coupled: the row is written with the events, `visible` asks for nothing more.
        const outcome = await runners[which]!.execute(aggregateId, command, { visible: false });
        if (!outcome.ok) errors++;
        options.onCommand?.();
      }
    }
    return errors;
  };
  // Unrecorded: every side starts its first block warm, in the rhythm it is measured in.
  await takeTurns(options.warmUp ?? 0);
  const blocks: TurnsBlockUsage[] = [];
  let idleBefore = await idleRates();
  for (let block = 0; block < (options.blocks ?? 1); block++) {
    const start = await usage();
    if (start.includes(undefined)) return undefined;
    const startedAt = performance.now();
    const errors = await takeTurns(options.commands);
    const ms = performance.now() - startedAt;
    const end = await usage();
    const idleAfter = await idleRates();
    if (end.includes(undefined) || [...idleBefore, ...idleAfter].includes(undefined)) {
      return undefined;
    }
    /** Side `i`'s usage; of its two idle rates, the lower (a one-off burst is not idling). */
    const side = (i: number): SideUsage => ({
      cpuMs: (end[i]!.cpuMicros - start[i]!.cpuMicros) / 1000,
      idle: Math.min(idleBefore[i]!, idleAfter[i]!),
      ms,
    });
    blocks.push({
      subjects: subjects.map((_, i) => side(i)),
      floor: side(subjects.length),
      commands: options.commands,
      errors,
    });
    idleBefore = idleAfter;
  }
  return {
    method: CPU_IN_TURNS_METHOD,
    commands: blocks.reduce((sum, b) => sum + b.commands, 0),
    errors: blocks.reduce((sum, b) => sum + b.errors, 0),
    subject: subject.name,
    floor: floor.name,
    ...turnsFigures(blocks),
    blocks: blocks.map((b) => turnsFigures([b])),
    ...(subjects.length > 1 && {
      alongside: subjects.slice(1).map((runner, i) => ({
        subject: runner.name,
        ...turnsFigures(blocks, i + 1),
        blocks: blocks.map((b) => turnsFigures([b], i + 1)),
      })),
    }),
  };
};
