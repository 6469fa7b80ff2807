/** Real child processes for the tests of `npm start` and the runtime's process tree. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

/** Starts `command` in the project root (or `cwd`) with its output collected. */
export const runProcess = (
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = ROOT,
): Run => {
  const child = spawn(command, args, {
    cwd,
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolveExit) => child.on('exit', (code) => resolveExit(code))),
  };
  child.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return run;
};

/**
 * Waits until stdout shows `expected` (a text, or a pattern whose match is returned); fails with
 * both outputs when the process exits first or the time is up.
 */
export const waitForOutput = async (
  run: Run,
  expected: string | RegExp,
  timeoutMs = 90_000,
): Promise<RegExpExecArray> => {
  const pattern =
    typeof expected === 'string'
      ? new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      : expected;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(run.stdout);
    if (found) return found;
    if (Date.now() > deadline || run.child.exitCode !== null) {
      throw new Error(`${pattern} did not appear.\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Whether a process with this pid still exists. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
