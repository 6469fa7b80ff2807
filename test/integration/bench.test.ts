/**
 * The benchmark in quick mode, end to end, as a child process: it must finish, write complete
 * and well-formed results, and leave nothing running. It signs in like any client (every
 * gateway of the stacks it starts verifies its token), so no error anywhere also means no
 * refused token. No timing is asserted: the machine running the tests may be slow or busy;
 * only the shape and the counts of the results are.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchResult, RunnerFigures } from '../../bench/results';
import { costCommands, costRounds, cpuInTurnsBlocks, cpuInTurnsCommands } from '../../bench/cost';
import { QUICK_SETTINGS } from '../../bench/settings';
import type { Summary } from '../../bench/stats';

const ROOT = resolve(__dirname, '../..');
const PROFILES = ['coupled', 'decoupled-250ms', 'decoupled-10ms'];
const RUNNERS = [...PROFILES, 'floor-decoupled', 'floor-coupled'];

let out: string;
let child: ChildProcess | undefined;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'bench-test-'));
});

afterAll(() => {
  // Only if the test failed before the bench finished: SIGTERM makes it stop what it started.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  rmSync(out, { recursive: true, force: true });
});

const runBench = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun, reject) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = process_;
    let stdout = '';
    let stderr = '';
    process_.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    process_.once('error', reject);
    process_.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });

const expectWellFormed = (summary: Summary | null, count: number, what: string) => {
  expect({ what, count: summary?.count }).toEqual({ what, count });
  const s = summary!;
  expect(s.min).toBeGreaterThan(0);
  expect(s.min).toBeLessThanOrEqual(s.p50);
  expect(s.p50).toBeLessThanOrEqual(s.p95);
  expect(s.p95).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
  expect(s.mean).toBeGreaterThan(0);
};

const expectRunner = (figures: RunnerFigures | undefined, samples: number, what: string) => {
  expect({ what, samples: figures?.samples, errorCodes: figures?.errorCodes }).toEqual({
    what,
    samples,
    errorCodes: {},
  });
  expectWellFormed(figures!.ack, samples, `${what} ack`);
  expectWellFormed(figures!.visible, samples, `${what} visible`);
  expect(figures!.throughput).toBeGreaterThan(0);
};

const refusesConnections = async (url: string) => {
  await expect(fetch(url, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
};

/** Generous: quick mode is a few minutes of work when the machine is shared with other suites. */
const QUICK_BENCH_TIMEOUT_MS = 480_000;

test(
  'bench --quick writes complete, well-formed results and stops everything it started',
  async () => {
    const { code, stdout, stderr } = await runBench(['--quick', '--out', out]);
    expect({ code, stderr: code === 0 ? '' : stderr.slice(-3000) }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(stdout).toContain('visible latency');
    expect(stdout).toMatch(/Total duration: \d+\.\d s/);

    const result = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResult;
    const settings = QUICK_SETTINGS;

    // Settings and machine.
    expect(result.mode).toBe('local');
    expect(result.settings.quick).toBe(true);
    expect(result.settings.concurrency).toEqual(settings.concurrency);
    expect(result.settings.contention).toEqual(settings.contention);
    expect(result.settings.history).toEqual(settings.history);
    expect(result.settings.profiles.map((p) => p.name)).toEqual(PROFILES);
    expect(result.settings.runners.map((r) => r.name)).toEqual(RUNNERS);
    const pollIntervals = result.settings.profiles.map((p) => p.eventSource?.pollIntervalMs);
    expect(pollIntervals).toEqual([undefined, 250, 10]);
    for (const p of result.settings.profiles.slice(1)) expect(p.eventSource?.batchSize).toBe(100);
    expect(result.settings.floor.available).toBe(true);
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.machine.cpuModel).toEqual(expect.any(String));
    expect(result.machine.totalMemoryBytes).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(result.machine.date))).toBe(false);
    expect(result.durationMs).toBeGreaterThan(0);

    // Signed in as the admin, with tokens of the stacks' own identity providers.
    expect(result.settings.identity?.user).toBe('admin');
    expect(stdout).toContain('Signed in as admin');

    // What a token check costs: the planned calls, ordered percentiles, in the report.
    expect(result.settings.tokenVerification).toEqual(settings.tokenVerification);
    const check = result.tokenVerification!;
    expect(check.calls).toBe(settings.tokenVerification.calls);
    expectWellFormed(check.perCallUs, settings.tokenVerification.calls, 'token check');

    // The fulfilment workflow: every profile, the planned orders confirmed, none failed.
    expect(result.settings.workflow).toEqual(settings.workflow);
    for (const name of PROFILES) {
      const workflow = result.workflow?.[name];
      expect({ name, samples: workflow?.samples, errors: workflow?.errors }).toEqual({
        name,
        samples: settings.workflow.orders,
        errors: 0,
      });
      expectWellFormed(workflow!.confirmed, settings.workflow.orders, `${name} workflow`);
    }
    expect(stdout).toContain('Workflow: order submitted -> confirmed');

    // Concurrency: every runner at every level, with exactly the planned samples.
    expect(result.concurrency.map((l) => l.clients)).toEqual([1, 4, 16, 64]);
    for (const [index, level] of result.concurrency.entries()) {
      const planned = settings.concurrency[index]!;
      const samples = planned.clients * planned.commandsPerClient;
      expect(level.commandsPerClient).toBe(planned.commandsPerClient);
      for (const name of RUNNERS) {
        expectRunner(level.runners[name], samples, `${level.clients} clients, ${name}`);
      }
      for (const name of PROFILES) {
        const r = level.ratios[name]!;
        expect(r.ackToFloor).toBeGreaterThan(0);
        expect(r.visibleToFloor).toBeGreaterThan(0);
        if (name === 'coupled') expect(r.ackToCoupled).toBeNull();
        else {
          expect(r.ackToCoupled).toBeGreaterThan(0);
          expect(r.visibleToCoupled).toBeGreaterThan(0);
        }
      }
      const raw = result.raw.concurrency[index]!;
      expect(raw.clients).toBe(level.clients);
      for (const name of RUNNERS) {
        expect(raw.runners[name]?.ack).toHaveLength(samples);
        expect(raw.runners[name]?.visible).toHaveLength(samples);
      }
    }
    expect(result.headline.clients).toBe(1);
    expect(result.headline.runners).toEqual(result.concurrency[0]!.runners);
    expect(result.headline.ratios).toEqual(result.concurrency[0]!.ratios);

    // Contention: both modes, every profile, every attempt accounted for.
    const { clients, attemptsPerClient, rounds } = settings.contention;
    const attempts = clients * attemptsPerClient * rounds;
    expect(result.contention.modes.map((m) => m.mode)).toEqual(['retry', 'expectedVersion']);
    for (const mode of result.contention.modes) {
      for (const name of PROFILES) {
        const c = mode.profiles[name]!;
        expect(c.attempts).toBe(attempts);
        expect(c.successes + c.conflicts + c.transactionConflicts + c.otherErrors).toBe(attempts);
        expect({ name, other: c.otherErrors, codes: c.otherErrorCodes }).toEqual({
          name,
          other: 0,
          codes: undefined,
        });
        expect(c.successes).toBeGreaterThan(0);
        expect(c.retries).toBeGreaterThanOrEqual(0);
        expectWellFormed(c.ack, c.successes, `contention ${mode.mode} ${name}`);
      }
    }
    // With expectedVersion, all first attempts carry the same version: one can win per round.
    const withVersion = result.contention.modes[1]!;
    for (const name of PROFILES) {
      expect(withVersion.profiles[name]!.conflicts).toBeGreaterThanOrEqual((clients - 1) * rounds);
    }

    // Client-visible latency: every profile, the planned samples on both paths, no errors.
    expect(result.settings.clientLatency).toEqual(settings.clientLatency);
    expect(Object.keys(result.client ?? {})).toEqual(PROFILES);
    for (const name of PROFILES) {
      const c = result.client![name]!;
      expect({ name, samples: c.samples, errors: c.errors }).toEqual({
        name,
        samples: settings.clientLatency.commands,
        errors: 0,
      });
      expectWellFormed(c.client, settings.clientLatency.commands, `client ${name}`);
      expectWellFormed(c.fetch, settings.clientLatency.commands, `fetch ${name}`);
      expect(c.overheadP50Ms).toEqual(expect.any(Number));
    }
    expect(stdout).toContain('Client-visible latency');

    // Push latency and fan-out: every profile, the planned samples, no errors; the last of the
    // subscribers is never before the median one.
    expect(result.settings.push).toEqual(settings.push);
    expect(Object.keys(result.push ?? {})).toEqual(PROFILES);
    for (const name of PROFILES) {
      const p = result.push![name]!;
      expect({ name, samples: p.samples, errors: p.errors, fanoutErrors: p.fanout.errors }).toEqual(
        {
          name,
          samples: settings.push.commands,
          errors: 0,
          fanoutErrors: 0,
        },
      );
      expectWellFormed(p.latency, settings.push.commands, `push ${name}`);
      expect(p.fanout.subscribers).toBe(settings.push.fanout.subscribers);
      expectWellFormed(p.fanout.last, settings.push.fanout.rounds, `fan-out last ${name}`);
      expectWellFormed(
        p.fanout.each,
        settings.push.fanout.rounds * settings.push.fanout.subscribers,
        `fan-out each ${name}`,
      );
      expect(p.fanout.last!.p50).toBeGreaterThanOrEqual(p.fanout.each!.p50);
    }
    expect(stdout).toContain('Push latency');

    // History: the planned lengths, every runner, exactly the planned samples.
    expect(result.history.map((h) => h.length)).toEqual(settings.history.lengths);
    const historySamples = settings.history.ordersPerLength * settings.history.commandsPerOrder;
    for (const entry of result.history) {
      for (const name of RUNNERS) {
        expectRunner(entry.runners[name], historySamples, `history ${entry.length}, ${name}`);
      }
      for (const name of PROFILES) expect(entry.ratios[name]!.ackToFloor).toBeGreaterThan(0);
    }

    // The decoupled pollers' counters, read from their runtime processes.
    for (const name of ['decoupled-250ms', 'decoupled-10ms']) {
      const counters = result.eventSources?.[name] as { polls?: number } | undefined;
      expect({ name, polled: (counters?.polls ?? 0) > 0 }).toEqual({ name, polled: true });
    }

    // The cost block: every runner and the coupled function alone (its process runs no poller).
    expect(Object.keys(result.cost?.runners ?? {}).sort()).toEqual(
      [...RUNNERS, 'coupled-function'].sort(),
    );
    const alone = result.cost!.runners['coupled-function']!;
    expect({ commands: alone.commands, errors: alone.errors }).toEqual({
      commands: costCommands(true) * costRounds(true),
      errors: 0,
    });
    expect(alone.cpuMsPerCommand).toBeGreaterThan(0);
    // The command's own writes, without a projector's.
    expect(alone.writeUnits).toBeGreaterThan(0);
    expect(alone.writeUnits).toBeLessThanOrEqual(result.cost!.runners.coupled!.writeUnits);
    // The CPU target's reading: the function invoked as Lambda runs it and its floor alone
    // taking turns, the same function behind its local gateway beside them.
    const turns = result.cost!.turns!;
    expect(turns).toMatchObject({
      commands: cpuInTurnsBlocks(true) * cpuInTurnsCommands(true),
      errors: 0,
      subject: 'coupled-function-invoked',
      floor: 'floor-coupled-alone',
    });
    expect(turns.subjectCpuMsPerCommand).toBeGreaterThan(0);
    expect(turns.floorCpuMsPerCommand).toBeGreaterThan(0);
    expect(turns.blocks).toHaveLength(cpuInTurnsBlocks(true));
    expect(turns.alongside?.map((a) => a.subject)).toEqual(['coupled-function']);
    expect(turns.alongside![0]!.subjectCpuMsPerCommand).toBeGreaterThan(0);
    expect(turns.alongside![0]!.floorCpuMsPerCommand).toBe(turns.floorCpuMsPerCommand);

    // The other files.
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const name of PROFILES) expect(markdown).toContain(`| ${name} |`);
    expect(markdown).toContain('latency-distribution.svg');
    expect(markdown).toContain('#### Client-visible latency');
    expect(markdown).toContain('#### Token verification');
    for (const chart of ['latency-distribution.svg', 'latency-vs-history.svg']) {
      expect(existsSync(join(out, chart))).toBe(true);
      expect(readFileSync(join(out, chart), 'utf8')).toContain('<svg');
    }

    // Nothing left running: DynamoDB Local and the three APIs are gone.
    expect(result.settings.dynamoDbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await refusesConnections(result.settings.dynamoDbEndpoint!);
    for (const profile of result.settings.profiles) await refusesConnections(profile.url);
  },
  QUICK_BENCH_TIMEOUT_MS,
);
