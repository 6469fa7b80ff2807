/**
 * Where the CPU target's floor is read (docs/decisions/cpu-floor-in-a-process.md). Three runners
 * take turns command by command, the one going first rotating, on the bench's local target:
 *
 * - `coupled-function`: the coupled function alone, its runtime process read whole over a block;
 * - `floor-coupled-alone`: the floor's calls in a process of their own (bench/runner-process.ts),
 *   read the same way: the bench's floor since 2026-12-07;
 * - `floor-coupled`: the same calls in this process, read inside its commands only: the floor
 *   before.
 *
 * Each process's idle rate is taken off: the lower of the two measured for 1 s before and after
 * the block, as the bench does. Before the blocks, the CPU a
 * request across the floor process's IPC channel costs it: 2,000 `usage` round trips, three
 * times.
 *
 * Run: node --import tsx bench/probes/floor-process.ts [blocks, default 3] [commands, default 300]
 */
import { OrderSession } from '../orders';
import { Cleanup, startLocalTarget } from '../targets';

const WARM_UP = 300;
const ROUND_TRIPS = 2_000;

const cpuMs = async (usage: () => Promise<{ cpuMicros: number } | undefined>) =>
  ((await usage())?.cpuMicros ?? Number.NaN) / 1000;

const main = async () => {
  const blocks = Number(process.argv[2] ?? 3);
  const commands = Number(process.argv[3] ?? 300);
  const cleanup = new Cleanup();
  try {
    const target = await startLocalTarget(cleanup, { fastPoller: false });
    const runners = [
      target.costOnly.find((r) => r.name === 'coupled-function')!,
      target.floorAlone!,
      target.floors.find((r) => r.name === 'floor-coupled')!,
    ];
    const [fn, alone] = [target.usage['coupled-function']!, target.usage['floor-coupled-alone']!];
    const runId = `fp${Date.now().toString(36)}`;
    const sessions = runners.map((r) => new OrderSession(`${runId}-${r.tag}`, 10));
    /** One command of runner `k`; the CPU this process spent in it. */
    const send = async (k: number) => {
      const { aggregateId, command } = sessions[k]!.next();
      const before = process.cpuUsage();
      const outcome = await runners[k]!.execute(aggregateId, command, { visible: false });
      if (!outcome.ok) throw new Error(`${runners[k]!.name}: a command failed (${outcome.status})`);
      const spent = process.cpuUsage(before);
      return (spent.user + spent.system) / 1000;
    };
    for (let i = 0; i < WARM_UP; i++) for (const k of [0, 1, 2]) await send(k);

    for (let r = 0; r < 3; r++) {
      const before = await cpuMs(alone.usage);
      for (let i = 0; i < ROUND_TRIPS; i++) await alone.usage();
      const each = ((await cpuMs(alone.usage)) - before) / ROUND_TRIPS;
      console.log(`an IPC round trip costs the floor process ${each.toFixed(3)} ms of CPU`);
    }

    const idleRate = async (usage: () => Promise<{ cpuMicros: number } | undefined>) => {
      const before = await cpuMs(usage);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return (await cpuMs(usage)) - before;
    };
    console.log(`CPU ms per command, ${blocks} blocks of ${commands} after ${WARM_UP} unrecorded:`);
    const idleRates = async () => [await idleRate(fn.usage), await idleRate(alone.usage)];
    let idleBefore = await idleRates();
    for (let b = 0; b < blocks; b++) {
      const started = performance.now();
      const start = [await cpuMs(fn.usage), await cpuMs(alone.usage)];
      let inBench = 0;
      for (let i = 0; i < commands; i++) {
        for (const k of [0, 1, 2].map((j) => (j + i) % 3)) {
          const spent = await send(k);
          if (k === 2) inBench += spent;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const end = [await cpuMs(fn.usage), await cpuMs(alone.usage)];
      // As the bench: of the idle rates before and after the block, the lower.
      const idleAfter = await idleRates();
      const idle = idleBefore.map((rate, k) => Math.min(rate, idleAfter[k]!));
      idleBefore = idleAfter;
      const [f, a] = [0, 1].map((k) => (end[k]! - start[k]! - idle[k]! * seconds) / commands) as [
        number,
        number,
      ];
      const q = inBench / commands;
      console.log(
        `  block ${b + 1}: coupled-function ${f.toFixed(2)}, floor-coupled-alone ${a.toFixed(2)}, floor-coupled ${q.toFixed(2)}; function / floor alone ${(f / a).toFixed(2)}x, function / in-process floor ${(f / q).toFixed(2)}x, floor alone / in-process ${(a / q).toFixed(2)}x`,
      );
    }
  } finally {
    await cleanup.run();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
