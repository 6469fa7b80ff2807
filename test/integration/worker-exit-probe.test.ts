/**
 * The test run's worker-exit probe (test/support/worker-exit-probe.cjs, preloaded by
 * scripts/test.sh): when Jest has to kill a worker, the run prints after Jest's warning what the
 * worker still held, or that it never handled the request to end; when every worker ends by
 * itself, nothing; and how late a worker that ended by itself did, past 300 ms. Real Jest runs of
 * two fixture files each with the project's global teardown, and a stand-in worker for the late
 * exit.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, runProcess } from '../support/processes';

const FIXTURES = join(ROOT, 'test', 'support', 'worker-exit');
const PROBE = join(ROOT, 'test', 'support', 'worker-exit-probe.cjs');

/** A Jest run of `files` in workers (no cache: no timings that would run two files in band). */
const runJest = async (files: readonly string[]) => {
  const config = {
    rootDir: FIXTURES,
    testMatch: files.map((file) => `<rootDir>/${file}`),
    maxWorkers: 2,
    globalTeardown: join(ROOT, 'test', 'support', 'global-teardown.ts'),
    transform: {
      '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    },
  };
  const run = runProcess(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--no-cache', '--config', JSON.stringify(config)],
    { ...process.env, NODE_OPTIONS: `--require "${PROBE}"` },
  );
  // 'close', not 'exit': the output is complete only once the pipes are.
  const code = await new Promise<number | null>((closed) => run.child.once('close', closed));
  return { code, output: run.stdout + run.stderr };
};

describe('worker exit probe', () => {
  it('given a test file that leaves a server listening, when its worker is told to end, then the run names the server', async () => {
    const { code, output } = await runJest(['leaves-a-server.fixture.js', 'ends-clean.fixture.js']);
    expect(code).toBe(0);
    expect(output).toContain('A worker process has failed to exit gracefully');
    expect(output).toContain('Jest workers that did not end in time');
    expect(output).toMatch(/Jest worker \d+\n\d+ ms after it was told to end, it was holding:/);
    expect(output).toMatch(/Server \{"address":"127\.0\.0\.1","family":"IPv4","port":\d+\}/);
  });

  it('given a test file that leaves its worker busy, when the worker is told to end, then the run says it never handled that', async () => {
    const { code, output } = await runJest(['stays-busy.fixture.js', 'ends-clean.fixture.js']);
    expect(code).toBe(0);
    expect(output).toContain('A worker process has failed to exit gracefully');
    expect(output).toMatch(
      /Jest worker \d+\n {2}never handled the request to end: its event loop was busy/,
    );
  });

  it('given a worker that takes 380 ms to end, when it ends by itself, then its report says how late', async () => {
    // A stand-in for jest-worker's child (the probe acts in a file of that name only): told to
    // end, it lingers 380 ms on a timer, then ends by itself.
    const dir = mkdtempSync(join(tmpdir(), 'late-worker-'));
    const child = join(dir, 'jest-worker', 'build', 'processChild.js');
    mkdirSync(dirname(child), { recursive: true });
    writeFileSync(
      child,
      "process.on('message', (m) => { if (m[0] === 2) { process.disconnect(); setTimeout(() => {}, 380); } });",
    );
    const worker = fork(child, [], { execArgv: ['--require', PROBE] });
    const report = join(tmpdir(), `jest-worker-exit-${process.pid}`, `${worker.pid}.txt`);
    try {
      worker.send([2, false]);
      await new Promise((exited) => worker.once('exit', exited));
      expect(readFileSync(report, 'utf8')).toMatch(
        /\d+ ms after it was told to end, it was holding:\n {2}resources: .*Timeout[\s\S]*ended by itself \d+ ms after it was told to end/,
      );
    } finally {
      rmSync(dirname(report), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given test files that leave nothing behind, when the workers end, then the run prints no report', async () => {
    const { code, output } = await runJest(['ends-clean.fixture.js', 'also-ends-clean.fixture.js']);
    expect(code).toBe(0);
    expect(output).toContain('Tests:       2 passed');
    expect(output).not.toContain('failed to exit gracefully');
    expect(output).not.toContain('Jest worker');
  });
});
