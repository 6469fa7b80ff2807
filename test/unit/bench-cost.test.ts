/** The bench's cost figures (bench/cost.ts): units, dollars and CPU per command, and their table. */
import {
  costOf,
  dollarsPerMillionCommands,
  measureCost,
  measureCpuInTurns,
  ON_DEMAND_PRICES,
  rotated,
  tableRoles,
  type UsageProbe,
} from '../../bench/cost';
import type { Runner } from '../../bench/runners';
import { CapacityMeter } from '../../lambdas/core/shared/consumed-capacity';
import { readPublishedResult } from '../../bench/publish';
import { costTable, cpuInTurnsNote, markdownSummary, summaryTable } from '../../bench/report';
import type { BenchResult } from '../../bench/results';

const usage = (calls: number, readUnits: number, writeUnits: number, computedCalls = 0) => ({
  calls,
  readUnits,
  writeUnits,
  computedCalls,
  failedCalls: 0,
});

describe('dollarsPerMillionCommands', () => {
  test('given 1 write and 2 read units per command, when priced on demand, then $0.625 + 2 × $0.125', () => {
    expect(dollarsPerMillionCommands({ readUnits: 2, writeUnits: 1 })).toBeCloseTo(0.875, 6);
  });

  test('given the constant, when read, then it is dated and cited', () => {
    expect(ON_DEMAND_PRICES.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(ON_DEMAND_PRICES.source).toMatch(/^https:\/\/aws\.amazon\.com\/dynamodb\/pricing/);
  });
});

describe('costOf', () => {
  const figures = costOf({
    process: 'runtime process 1',
    commands: 10,
    errors: 0,
    consumed: {
      'bench-events': { PutItem: usage(10, 0, 10), Query: usage(10, 10, 0) },
      'bench-projections': { UpdateItem: usage(10, 0, 20), GetItem: usage(20, 20, 0, 5) },
    },
    tables: tableRoles({ eventTable: 'bench-events', projectionsTable: 'bench-projections' }),
    cpuMs: 50,
    idleCpuMsPerSecond: 2,
    durationMs: 1000,
  });

  test('given a block of 10 commands, when summarised, then units are per command and per table', () => {
    expect(figures).toMatchObject({
      readUnits: 3,
      writeUnits: 3,
      calls: 5,
      tables: {
        event: { readUnits: 1, writeUnits: 1, calls: 2 },
        projections: { readUnits: 2, writeUnits: 2, calls: 3 },
      },
      operations: { PutItem: 1, Query: 1, UpdateItem: 1, GetItem: 2 },
      computedShare: 0.1,
    });
    expect(figures.dollarsPerMillionCommands).toBeCloseTo(3 * 0.125 + 3 * 0.625, 4);
  });

  test('given an idle rate, when CPU is summarised, then the idle share of the block is taken off', () => {
    // 50 ms over 10 commands, less 2 ms/s × 1 s spread over them.
    expect(figures.grossCpuMsPerCommand).toBe(5);
    expect(figures.cpuMsPerCommand).toBe(4.8);
  });
});

describe('the cost columns', () => {
  const cost = (read: number, write: number, cpu: number) =>
    costOf({
      process: 'p',
      commands: 1,
      errors: 0,
      consumed: { t: { PutItem: usage(1, read, write) } },
      tables: {},
      cpuMs: cpu,
      durationMs: 0,
    });
  const result = {
    settings: { profiles: [{ name: 'coupled', kind: 'coupled', url: '' }], runners: [] },
    headline: { clients: 1, runners: {}, ratios: {} },
    cost: {
      method: '',
      prices: ON_DEMAND_PRICES,
      commandsPerRunner: 1,
      runners: { coupled: cost(1, 4, 6), 'floor-coupled': cost(1, 3, 4) },
    },
  } as unknown as BenchResult;

  test('given cost figures, when tabled, then dollars and CPU against the floor show', () => {
    const table = costTable(result);
    const coupled = table.rows[0]!;
    expect(coupled[table.headers.indexOf('$ per 1M cmds')]).toBe('$2.625');
    expect(coupled[table.headers.indexOf('CPU/floor')]).toBe('1.50×');
  });

  test('given cost figures, when the README summary is built, then it gains the cost column', () => {
    const table = summaryTable(result);
    expect(table.headers).toContain('$ per 1M commands');
    expect(table.rows[0]![table.headers.indexOf('$ per 1M commands')]).toBe('$2.625');
    expect(summaryTable({ ...result, cost: undefined }).headers).not.toContain('$ per 1M commands');
  });

  test('given the coupled function alone measured, when the README summary is built, then its CPU against the floor is said', () => {
    const published = readPublishedResult();
    const withAlone = {
      ...published,
      cost: {
        ...result.cost!,
        runners: { ...result.cost!.runners, 'coupled-function': cost(1, 3, 7) },
      },
    } as BenchResult;
    expect(markdownSummary(withAlone)).toContain(
      'The coupled function alone (a process with no stream function, as a Lambda instance runs): 7.00 ms/command, 1.75× its floor',
    );
    const without = { ...published, cost: result.cost } as BenchResult;
    expect(markdownSummary(without)).not.toContain('The coupled function alone');
  });

  test('given the function alone measured taking turns with its floor, when reported, then that figure is the one said', () => {
    const published = readPublishedResult();
    const withTurns = {
      ...published,
      cost: {
        ...result.cost!,
        runners: { ...result.cost!.runners, 'coupled-function': cost(1, 3, 7) },
        turns: {
          method: 'taking turns',
          commands: 300,
          errors: 0,
          subject: 'coupled-function',
          floor: 'floor-coupled-alone',
          subjectCpuMsPerCommand: 6.5,
          floorCpuMsPerCommand: 5,
          ratio: 1.3,
          blocks: [
            { subjectCpuMsPerCommand: 6.2, floorCpuMsPerCommand: 5, ratio: 1.24 },
            { subjectCpuMsPerCommand: 6.8, floorCpuMsPerCommand: 5, ratio: 1.36 },
          ],
        },
      },
    } as BenchResult;
    expect(markdownSummary(withTurns)).toContain(
      "taking turns with its floor (the same calls in a process of their own) command by command: 6.50 ms/command, 1.30× its floor's 5.00; blocks 1.24×, 1.36×.",
    );
    // A run before the floor had a process of its own (floor-coupled, read in the bench's).
    const before = {
      ...withTurns,
      cost: { ...withTurns.cost!, turns: { ...withTurns.cost!.turns!, floor: 'floor-coupled' } },
    } as BenchResult;
    expect(markdownSummary(before)).toContain('taking turns with its floor command by command');
    expect(cpuInTurnsNote(withTurns)).toContain(
      '**1.30×**; blocks 1.24×, 1.36×; 300 commands each: taking turns',
    );
    expect(cpuInTurnsNote({ cost: result.cost })).toBeUndefined();
  });

  test('given the function invoked as Lambda runs it read with the same behind its gateway, when reported, then both are said, the invoked one as the target’s', () => {
    const published = readPublishedResult();
    const turns = {
      method: 'taking turns',
      commands: 300,
      errors: 0,
      subject: 'coupled-function-invoked',
      floor: 'floor-coupled-alone',
      subjectCpuMsPerCommand: 6,
      floorCpuMsPerCommand: 5,
      ratio: 1.2,
      alongside: [
        {
          subject: 'coupled-function',
          subjectCpuMsPerCommand: 7,
          floorCpuMsPerCommand: 5,
          ratio: 1.4,
          blocks: [
            { subjectCpuMsPerCommand: 6.5, floorCpuMsPerCommand: 5, ratio: 1.3 },
            { subjectCpuMsPerCommand: 7.5, floorCpuMsPerCommand: 5, ratio: 1.5 },
          ],
        },
      ],
    };
    const withTurns = { ...published, cost: { ...published.cost!, turns } } as BenchResult;
    expect(cpuInTurnsNote(withTurns)).toContain(
      '`coupled-function-invoked` 6.00 ms/command against `floor-coupled-alone` 5.00, **1.20×**; beside them, `coupled-function` (the same function behind its local gateway) 7.00 ms/command, 1.40×; blocks 1.30×, 1.50×; 300 commands each',
    );
    expect(markdownSummary(withTurns)).toContain(
      "The coupled function as a Lambda instance runs it (its handler handed each event in a process of its own), taking turns with its floor (the same calls in a process of their own) command by command: 6.00 ms/command, 1.20× its floor's 5.00; behind its local gateway (HTTP, routing, the token check), 7.00 ms/command, 1.40×.",
    );
  });
});

describe('the cost block in rounds', () => {
  test('given 3 runners, when rotated, then each round starts one further', () => {
    expect([0, 1, 2, 3].map((round) => rotated(['a', 'b', 'c'], round).join(''))).toEqual([
      'abc',
      'bca',
      'cab',
      'abc',
    ]);
    expect(rotated([], 2)).toEqual([]);
  });

  test('given two runners and 2 rounds, when measured, then the first rotates, each runner sums its rounds, and the stacks settle once between blocks', async () => {
    const turns: string[] = [];
    // Each runner's own process: 1 ms of CPU and one 1-unit PutItem per command.
    const runnerOf = (name: string) => {
      const meter = new CapacityMeter();
      let cpuMicros = 0;
      let sent = 0;
      const runner = {
        name,
        tag: name,
        kind: 'coupled',
        execute: () => {
          // The first command of each block of 5.
          if (sent++ % 5 === 0) turns.push(name);
          cpuMicros += 1_000;
          meter.record('events', 'PutItem', { writeUnits: 1 });
          return Promise.resolve({ ok: true });
        },
      } as unknown as Runner;
      const probe: UsageProbe = {
        process: `process ${name}`,
        tables: { events: 'event' },
        usage: () => Promise.resolve({ cpuMicros, capacity: meter.snapshot() }),
      };
      return { runner, probe };
    };
    const [a, b] = [runnerOf('a'), runnerOf('b')];
    let settles = 0;
    const cost = await measureCost(
      [a.runner, b.runner],
      { a: a.probe, b: b.probe },
      {
        runId: 'r',
        commands: 5,
        commandsPerOrder: 3,
        settle: () => Promise.resolve(settles++),
        idleMs: 1,
        rounds: 2,
      },
    );
    expect(turns).toEqual(['a', 'b', 'b', 'a']);
    // Once before the first block, then after each: a block's closing settle opens the next.
    expect(settles).toBe(5);
    expect(cost.commandsPerRunner).toBe(10);
    for (const name of ['a', 'b']) {
      expect(cost.runners[name]).toMatchObject({
        commands: 10,
        writeUnits: 1,
        grossCpuMsPerCommand: 1,
        idleCpuMsPerSecond: 0,
      });
    }
  });
});

describe('CPU taking turns (what the CPU target reads)', () => {
  /**
   * A subject whose process spends `subjectMicros(n)` on its n-th command (0-based) and fails
   * where `fails(n)`; a floor whose process spends 2 ms on each of its commands and
   * `floorBetweenMicros` while the subject's runs (its GC, V8's helper threads); each process's
   * CPU counter as its probe, the subject's with `firstIdleBurstMicros` spent in its first idle
   * window; and the order they ran in.
   */
  const pair = (
    subjectMicros: (n: number) => number,
    options: {
      fails?: (n: number) => boolean;
      floorBetweenMicros?: number;
      firstIdleBurstMicros?: number;
    } = {},
  ) => {
    const order: string[] = [];
    const cpuMicros = { 'coupled-function': 0, 'floor-coupled-alone': 0 };
    let sent = 0;
    const subject = {
      name: 'coupled-function',
      tag: 'cf',
      kind: 'coupled',
      execute: () => {
        order.push('s');
        const n = sent++;
        cpuMicros['coupled-function'] += subjectMicros(n);
        cpuMicros['floor-coupled-alone'] += options.floorBetweenMicros ?? 0;
        return Promise.resolve({ ok: !options.fails?.(n) });
      },
    } as unknown as Runner;
    const floor = {
      name: 'floor-coupled-alone',
      tag: 'fca',
      kind: 'floor-coupled',
      execute: () => {
        order.push('f');
        cpuMicros['floor-coupled-alone'] += 2_000;
        return Promise.resolve({ ok: true });
      },
    } as unknown as Runner;
    let subjectAsked = 0;
    const probeOf = (name: keyof typeof cpuMicros): UsageProbe => ({
      process: `${name} process`,
      tables: {},
      usage: () => {
        // The subject's first idle window ends with its burst (its second reading).
        if (name === 'coupled-function' && ++subjectAsked === 2) {
          cpuMicros[name] += options.firstIdleBurstMicros ?? 0;
        }
        return Promise.resolve({
          cpuMicros: cpuMicros[name],
          capacity: new CapacityMeter().snapshot(),
        });
      },
    });
    const probes = {
      'coupled-function': probeOf('coupled-function'),
      'floor-coupled-alone': probeOf('floor-coupled-alone'),
    };
    return { order, subject, floor, probes };
  };

  test('given a subject whose process spends 3 ms a command and a floor whose process spends 2 ms, when they take turns, then they alternate going first and the figures are per command', async () => {
    // One command in four fails: counted, still measured.
    const { order, subject, floor, probes } = pair(() => 3_000, { fails: (n) => n % 4 === 3 });
    const turns = await measureCpuInTurns(subject, floor, probes, {
      runId: 'r',
      commands: 8,
      commandsPerOrder: 3,
      idleMs: 50,
    });
    expect(order.join('')).toBe('sffssffssffssffs');
    expect(turns).toMatchObject({
      commands: 8,
      errors: 2,
      subject: 'coupled-function',
      floor: 'floor-coupled-alone',
      subjectCpuMsPerCommand: 3,
      floorCpuMsPerCommand: 2,
      ratio: 1.5,
    });
  });

  test('given a floor process that works while the subject runs, when they take turns, then that work is the floor’s, as the subject’s between its commands is the subject’s', async () => {
    const { subject, floor, probes } = pair(() => 3_000, { floorBetweenMicros: 1_000 });
    const turns = await measureCpuInTurns(subject, floor, probes, {
      runId: 'r',
      commands: 4,
      commandsPerOrder: 3,
      idleMs: 50,
    });
    expect(turns).toMatchObject({ floorCpuMsPerCommand: 3, ratio: 1 });
  });

  test('given a burst in the subject’s idle window before a block, when they take turns, then the burst is not taken off its commands as idling', async () => {
    // 50 ms in a 50 ms window: an idle rate of 1,000 ms/s, more than the block's whole time.
    const { subject, floor, probes } = pair(() => 3_000, { firstIdleBurstMicros: 50_000 });
    const turns = await measureCpuInTurns(subject, floor, probes, {
      runId: 'r',
      commands: 4,
      commandsPerOrder: 3,
      idleMs: 50,
    });
    expect(turns).toMatchObject({ subjectCpuMsPerCommand: 3, ratio: 1.5 });
  });

  test('given 2 blocks, when they take turns, then each block starts its own alternation and has its own figures, the totals over both', async () => {
    // 2 ms a command in the first block, 4 ms in the second.
    const { order, subject, floor, probes } = pair((n) => (n < 2 ? 2_000 : 4_000));
    const turns = await measureCpuInTurns(subject, floor, probes, {
      runId: 'r',
      commands: 2,
      blocks: 2,
      commandsPerOrder: 3,
      idleMs: 50,
    });
    expect(order.join('')).toBe('sffssffs');
    expect(turns!.commands).toBe(4);
    expect(turns!.blocks!.map((b) => b.subjectCpuMsPerCommand)).toEqual([2, 4]);
    expect(turns!.subjectCpuMsPerCommand).toBe(3);
    expect(turns!.blocks![0]!.ratio).toBeLessThan(turns!.blocks![1]!.ratio);
  });

  test('given a warm-up of 2 rounds, when they take turns, then those rounds run first in the same rotation and are not counted', async () => {
    // 9 ms a command during the warm-up, 3 ms after: only the 3 ms are read.
    const { order, subject, floor, probes } = pair((n) => (n < 2 ? 9_000 : 3_000));
    const turns = await measureCpuInTurns(subject, floor, probes, {
      runId: 'r',
      commands: 2,
      commandsPerOrder: 3,
      idleMs: 50,
      warmUp: 2,
    });
    expect(order.join('')).toBe('sffssffs');
    expect(turns).toMatchObject({ commands: 2, subjectCpuMsPerCommand: 3, ratio: 1.5 });
  });

  test('given a runner read beside the subject, when they take turns, then the three rotate going first and it is read against the same floor', async () => {
    const { order, subject, floor, probes } = pair(() => 3_000);
    let besideMicros = 0;
    const beside = {
      name: 'coupled-function-gateway',
      tag: 'cg',
      kind: 'coupled',
      execute: () => {
        order.push('g');
        besideMicros += 4_000;
        return Promise.resolve({ ok: true });
      },
    } as unknown as Runner;
    const turns = await measureCpuInTurns(
      subject,
      floor,
      {
        ...probes,
        [beside.name]: {
          process: 'beside',
          tables: {},
          usage: () =>
            Promise.resolve({ cpuMicros: besideMicros, capacity: new CapacityMeter().snapshot() }),
        },
      },
      { runId: 'r', commands: 3, commandsPerOrder: 3, idleMs: 50, alongside: [beside] },
    );
    expect(order.join('')).toBe('sgfgfsfsg');
    expect(turns).toMatchObject({ subjectCpuMsPerCommand: 3, floorCpuMsPerCommand: 2, ratio: 1.5 });
    expect(turns!.alongside).toEqual([
      {
        subject: 'coupled-function-gateway',
        subjectCpuMsPerCommand: 4,
        floorCpuMsPerCommand: 2,
        ratio: 2,
        blocks: [{ subjectCpuMsPerCommand: 4, floorCpuMsPerCommand: 2, ratio: 2 }],
      },
    ]);
  });

  test('given no probe for the subject, when asked, then there is no figure', async () => {
    const runner = { name: 'x', tag: 'x', kind: 'coupled' } as unknown as Runner;
    await expect(
      measureCpuInTurns(runner, runner, {}, { runId: 'r', commands: 1, commandsPerOrder: 1 }),
    ).resolves.toBeUndefined();
  });
});
