/**
 * Hot aggregates (issue 23, item 3): many writers on ONE order without `expectedVersion`, the
 * server retrying lost races, against the targets the issue sets:
 *
 * - steady: `steadyWriters` writers × `commandsPerWriter` commands each, applied per second,
 *   beside ONE writer sending as many commands one after another (the sequential rate; target
 *   ≥ 0.8×);
 * - crowds: `writers` writers × one command each, all sent at once (targets: 50 all applied
 *   within the deadline; 200: every answer within the deadline and ≥ 90 % applied).
 *
 * Ack latency only. The targets take turns (the first rotating every round), each round on fresh
 * orders. Used by `npm run bench -- --hot-aggregate` (the stacks, over HTTP) and by
 * bench/probes/contention.ts (the command runner itself, designs side by side).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_OUT_DIR } from './args';
import { machineInfo } from './machine';
import { changeQuantity, FIRST_LINE } from './orders';
import type { Outcome, Runner } from './runners';
import { rotate, summarize, throughput } from './stats';
import { Cleanup, startLocalTarget } from './targets';

export interface HotAggregateSettings {
  readonly steadyWriters: number;
  readonly commandsPerWriter: number;
  /** Writers sending one command each, all at once, one crowd after the other. */
  readonly crowds: readonly number[];
  readonly rounds: number;
  /** The stacks' command deadline (ms): an answer later than this misses the target. */
  readonly deadlineMs: number;
}

export const HOT_AGGREGATE_SETTINGS: HotAggregateSettings = {
  steadyWriters: 16,
  commandsPerWriter: 8,
  crowds: [50, 200],
  rounds: 2,
  deadlineMs: 5_000,
};

export const QUICK_HOT_AGGREGATE_SETTINGS: HotAggregateSettings = {
  ...HOT_AGGREGATE_SETTINGS,
  commandsPerWriter: 4,
  rounds: 1,
};

export type HotTarget = Pick<Runner, 'name' | 'tag' | 'execute' | 'prepare'>;

/** Answers of a batch of commands, counted. */
export interface Answers {
  sent: number;
  applied: number;
  /** 503 COMMAND_DEADLINE answers. */
  deadline: number;
  /** Any other failure, by code (or HTTP status). */
  readonly other: Record<string, number>;
  /** The server's retries over the applied commands. */
  retries: number;
  readonly ackMs: number[];
  /** Wall time of the batches (ms). */
  wallMs: number;
}

const noAnswers = (): Answers => ({
  sent: 0,
  applied: 0,
  deadline: 0,
  other: {},
  retries: 0,
  ackMs: [],
  wallMs: 0,
});

const count = (into: Answers, outcome: Outcome) => {
  into.sent++;
  into.ackMs.push(outcome.ackMs);
  if (outcome.ok) {
    into.applied++;
    into.retries += outcome.retries;
  } else if (outcome.code === 'COMMAND_DEADLINE') into.deadline++;
  else {
    const code = outcome.code ?? `HTTP_${outcome.status}`;
    into.other[code] = (into.other[code] ?? 0) + 1;
  }
};

export interface HotAggregateSamples {
  readonly sequential: Answers;
  readonly steady: Answers;
  readonly crowds: ReadonlyMap<number, Answers>;
}

/** One figure line: what the answers say against the targets. */
export interface AnswersFigures {
  readonly sent: number;
  readonly applied: number;
  readonly appliedShare: number;
  readonly deadline: number;
  readonly other: number;
  /** The other failures by code (or HTTP status). */
  readonly otherByCode: Readonly<Record<string, number>>;
  readonly retriesPerCommand: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly slowestMs: number;
}

export const figuresOf = (answers: Answers): AnswersFigures => {
  const ack = summarize(answers.ackMs);
  return {
    sent: answers.sent,
    applied: answers.applied,
    appliedShare: answers.sent === 0 ? 0 : answers.applied / answers.sent,
    deadline: answers.deadline,
    other: Object.values(answers.other).reduce((a, b) => a + b, 0),
    otherByCode: { ...answers.other },
    retriesPerCommand: answers.applied === 0 ? 0 : answers.retries / answers.applied,
    perSecond: throughput(answers.applied, answers.wallMs),
    p50Ms: ack?.p50 ?? 0,
    p95Ms: ack?.p95 ?? 0,
    slowestMs: ack?.max ?? 0,
  };
};

export interface HotAggregateFigures {
  readonly sequential: AnswersFigures;
  readonly steady: AnswersFigures & {
    /** Steady applied/s ÷ sequential applied/s (target ≥ 0.8). */
    readonly vsSequential: number;
  };
  readonly crowds: readonly (AnswersFigures & { readonly writers: number })[];
}

export const hotAggregateFigures = (samples: HotAggregateSamples): HotAggregateFigures => {
  const sequential = figuresOf(samples.sequential);
  const steady = figuresOf(samples.steady);
  return {
    sequential,
    steady: {
      ...steady,
      vsSequential: sequential.perSecond > 0 ? steady.perSecond / sequential.perSecond : 0,
    },
    crowds: [...samples.crowds].map(([writers, answers]) => ({
      writers,
      ...figuresOf(answers),
    })),
  };
};

/** Which of the issue's targets the figures meet (`deadlineMs`: the answers' bound). */
export const hotAggregateVerdict = (figures: HotAggregateFigures, deadlineMs: number) => ({
  steadyAtLeast80PercentOfSequential: figures.steady.vsSequential >= 0.8,
  crowds: figures.crowds.map((crowd) => ({
    writers: crowd.writers,
    everyAnswerWithinDeadline: crowd.slowestMs <= deadlineMs,
    // 50 writers: all applied; larger crowds: at least 90 %.
    appliedEnough: crowd.writers <= 50 ? crowd.applied === crowd.sent : crowd.appliedShare >= 0.9,
  })),
});

const timed = async (into: Answers, batch: () => Promise<unknown>) => {
  const started = performance.now();
  await batch();
  into.wallMs += performance.now() - started;
};

const quantity = (n: number) => (n % 50) + 1;

/**
 * The sweep: per round and target (taking turns), the sequential writer, the steady writers,
 * then each crowd, each on a fresh order of 2 events (create, addLine).
 */
export const runHotAggregate = async (
  targets: readonly HotTarget[],
  settings: HotAggregateSettings,
  runId: string,
  onBatch: (what: string) => void = () => {},
): Promise<Map<string, HotAggregateSamples>> => {
  const samples = new Map(
    targets.map((t) => [
      t.name,
      {
        sequential: noAnswers(),
        steady: noAnswers(),
        crowds: new Map(settings.crowds.map((w) => [w, noAnswers()])),
      },
    ]),
  );
  const send = async (target: HotTarget, aggregateId: string, n: number, into: Answers) =>
    count(
      into,
      await target.execute(aggregateId, changeQuantity(FIRST_LINE, quantity(n)), {
        visible: false,
      }),
    );
  const total = settings.steadyWriters * settings.commandsPerWriter;
  const indices = targets.map((_, k) => k);
  for (let round = 0; round < settings.rounds; round++) {
    for (const index of rotate(indices, round)) {
      const target = targets[index]!;
      const into = samples.get(target.name)!;
      const order = (what: string) => `${runId}-${target.tag}-hot-${what}-r${round}`;

      const alone = order('seq');
      await target.prepare(alone, 2);
      await timed(into.sequential, async () => {
        for (let n = 0; n < total; n++) await send(target, alone, n, into.sequential);
      });
      onBatch(`${target.name}: 1 writer × ${total}`);

      const steady = order('steady');
      await target.prepare(steady, 2);
      await timed(into.steady, () =>
        Promise.all(
          Array.from({ length: settings.steadyWriters }, async (_, w) => {
            for (let n = 0; n < settings.commandsPerWriter; n++)
              await send(target, steady, w * settings.commandsPerWriter + n, into.steady);
          }),
        ),
      );
      onBatch(`${target.name}: ${settings.steadyWriters} writers × ${settings.commandsPerWriter}`);

      for (const writers of settings.crowds) {
        const crowd = order(`crowd${writers}`);
        await target.prepare(crowd, 2);
        const answers = into.crowds.get(writers)!;
        await timed(answers, () =>
          Promise.all(Array.from({ length: writers }, (_, w) => send(target, crowd, w, answers))),
        );
        onBatch(`${target.name}: ${writers} writers at once`);
      }
    }
  }
  return samples;
};

const pad = (value: string, width: number) => value.padStart(width);

/** The figures as a plain-text table, one block per target, with the targets met or not. */
export const hotAggregateText = (
  byTarget: ReadonlyMap<string, HotAggregateFigures>,
  settings: HotAggregateSettings,
): string => {
  const lines = [
    `Hot aggregate: writers on ONE order without expectedVersion, ${settings.rounds} round(s), deadline ${settings.deadlineMs} ms`,
    `${'target / batch'.padEnd(44)}${pad('sent', 6)}${pad('applied', 9)}${pad('deadline', 10)}${pad('other', 7)}${pad('retries/cmd', 13)}${pad('applied/s', 11)}${pad('p50 ms', 8)}${pad('p95 ms', 8)}${pad('max ms', 8)}  target`,
  ];
  const row = (label: string, f: AnswersFigures, verdict: string) =>
    `${label.padEnd(44)}${pad(String(f.sent), 6)}${pad(String(f.applied), 9)}${pad(String(f.deadline), 10)}${pad(String(f.other), 7)}${pad(f.retriesPerCommand.toFixed(2), 13)}${pad(f.perSecond.toFixed(1), 11)}${pad(f.p50Ms.toFixed(0), 8)}${pad(f.p95Ms.toFixed(0), 8)}${pad(f.slowestMs.toFixed(0), 8)}  ${verdict}`;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  for (const [name, figures] of byTarget) {
    const verdict = hotAggregateVerdict(figures, settings.deadlineMs);
    lines.push(
      row(`${name}: 1 writer (sequential)`, figures.sequential, ''),
      row(
        `${name}: ${settings.steadyWriters} writers × ${settings.commandsPerWriter}`,
        figures.steady,
        `${figures.steady.vsSequential.toFixed(2)}× sequential (≥ 0.8: ${mark(verdict.steadyAtLeast80PercentOfSequential)})`,
      ),
      ...figures.crowds.map((crowd, k) => {
        const v = verdict.crowds[k]!;
        return row(
          `${name}: ${crowd.writers} writers at once`,
          crowd,
          `${(crowd.appliedShare * 100).toFixed(0)} % applied (${mark(v.appliedEnough)}), within deadline: ${mark(v.everyAnswerWithinDeadline)}`,
        );
      }),
    );
  }
  return lines.join('\n');
};

const flagValue = (argv: readonly string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * `npm run bench -- --hot-aggregate [--quick] [--rounds n] [--out dir]`: the sweep against the
 * local stacks over HTTP (each stack's functions in one process, as `npm start` runs them),
 * printed and written to <out>/hot-aggregate.json.
 */
export const runHotAggregateCli = async (argv: readonly string[]): Promise<number> => {
  const base = argv.includes('--quick') ? QUICK_HOT_AGGREGATE_SETTINGS : HOT_AGGREGATE_SETTINGS;
  const rounds = flagValue(argv, '--rounds');
  const settings: HotAggregateSettings = {
    ...base,
    ...(rounds !== undefined && { rounds: Number(rounds) }),
  };
  if (!(settings.rounds >= 1)) {
    console.error('error: --rounds must be >= 1');
    return 2;
  }
  const outDir = resolve(flagValue(argv, '--out') ?? DEFAULT_OUT_DIR);
  const cleanup = new Cleanup();
  try {
    // One stack per command path (the decoupled stacks differ only in how often they poll); the
    // 10 ms one is not started: idle, its pollers would load DynamoDB Local under the others.
    const target = await startLocalTarget(cleanup, { fastPoller: false });
    const profiles = target.profiles.filter(
      (p, k) => target.profiles.findIndex((q) => q.kind === p.kind) === k,
    );
    // Unmeasured: the stacks' V8 and DynamoDB Local's JVM compile their hot paths first.
    await runHotAggregate(
      profiles,
      { ...settings, rounds: 1, commandsPerWriter: 2, crowds: [] },
      `w${Date.now().toString(36)}`,
    );
    const samples = await runHotAggregate(
      profiles,
      settings,
      `h${Date.now().toString(36)}`,
      (what) => console.error(`done: ${what}`),
    );
    const figures = new Map([...samples].map(([name, s]) => [name, hotAggregateFigures(s)]));
    console.log(hotAggregateText(figures, settings));
    await mkdir(outDir, { recursive: true });
    await writeFile(
      join(outDir, 'hot-aggregate.json'),
      `${JSON.stringify(
        {
          machine: machineInfo(new Date()),
          settings,
          profiles: Object.fromEntries(
            [...figures].map(([name, f]) => [
              name,
              { ...f, targets: hotAggregateVerdict(f, settings.deadlineMs) },
            ]),
          ),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`Wrote hot-aggregate.json to ${outDir}`);
    return 0;
  } finally {
    await cleanup.run();
  }
};
