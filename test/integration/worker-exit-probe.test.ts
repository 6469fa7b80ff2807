/**
 * The test run's worker-exit probe (test/support/worker-exit-probe.cjs, preloaded by
 * scripts/test.sh): when a Jest worker does not end in time, the run prints what it still held
 * after Jest's warning; when every worker ends, nothing. Real Jest runs of two fixture files
 * each, with the project's global teardown.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'support', 'worker-exit');
const PROBE = join(ROOT, 'test', 'support', 'worker-exit-probe.cjs');

/** A Jest run of `files` in workers (no cache: no timings that would run two files in band). */
const runJest = (files: readonly string[]) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const config = {
      rootDir: FIXTURES,
      testMatch: files.map((file) => `<rootDir>/${file}`),
      maxWorkers: 2,
      globalTeardown: join(ROOT, 'test', 'support', 'global-teardown.ts'),
      transform: {
        '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
      },
    };
    execFile(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--no-cache', '--config', JSON.stringify(config)],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: `--require "${PROBE}"` },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
    );
  });

describe('worker exit probe', () => {
  it('given a test file that leaves a server listening, when its worker is told to end, then the run names the server', async () => {
    const { code, output } = await runJest(['leaves-a-server.fixture.js', 'ends-clean.fixture.js']);
    expect(code).toBe(0);
    expect(output).toContain('A worker process has failed to exit gracefully');
    expect(output).toMatch(/Jest worker \d+, 250 ms after it was told to end:/);
    expect(output).toMatch(/Server \{"address":"127\.0\.0\.1","family":"IPv4","port":\d+\}/);
  });

  it('given test files that leave nothing behind, when the workers end, then the run prints no report', async () => {
    const { code, output } = await runJest(['ends-clean.fixture.js', 'also-ends-clean.fixture.js']);
    expect(code).toBe(0);
    expect(output).toContain('Tests:       2 passed');
    expect(output).not.toContain('failed to exit gracefully');
    expect(output).not.toContain('after it was told to end');
  });
});
