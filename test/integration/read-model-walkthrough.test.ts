/**
 * The key steps of docs/guide/change-a-read-model.md, "Rebuild, switch, ...", run as a reader
 * runs them: `npm start -- --data-dir .local-data/db` (the CLI as a process, in a directory of
 * its own so its runtime file is its own), the walk-through's commands, `npm run rebuild`, and
 * the switch command the rebuild prints, run as printed. The data must survive that restart and
 * the row must be the one the guide shows. One step is not followed: listing v2 means editing
 * lambdas/handlers/deployment.ts, which a test must not do, so v1 (listed) is rebuilt and served.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/doc-blocks';
import { type Run, runProcess, waitForOutput } from '../support/processes';

const GUIDE = readFileSync(join(ROOT, 'docs/guide/change-a-read-model.md'), 'utf8');
const WALK_THROUGH = GUIDE.slice(GUIDE.indexOf('## Rebuild, switch'));
/** The data directory the guide starts `npm start` with. */
const DATA_DIR = /npm start -- --data-dir (\S+)\n/.exec(WALK_THROUGH)![1]!;
/** The bodies the guide's curl commands POST, in order. */
const COMMANDS = [...WALK_THROUGH.matchAll(/-d '(\{.*\})'/g)].map((m) => JSON.parse(m[1]!));
/** The `customer-summary` answer the guide shows first (v1), with "…" for any text. */
const V1_ANSWER = JSON.parse(/```json\n([\s\S]*?)```/.exec(WALK_THROUGH)![1]!);

const anyTextFor = (value: unknown): unknown =>
  value === '…'
    ? expect.any(String)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, anyTextFor(v)]))
      : value;

// A process of its own for each step, as a reader's terminal; tsx from this checkout.
const TSX = pathToFileURL(require.resolve('tsx')).href;
const work = mkdtempSync(join(tmpdir(), 'walk-through-'));
const running: Run[] = [];
const tool = (file: string, args: readonly string[], env: Record<string, string> = {}) => {
  const run = runProcess(
    process.execPath,
    ['--import', TSX, join(ROOT, 'local/tools', file), ...args],
    { ...process.env, WEB_PORT: '0', ...env },
    work,
  );
  running.push(run);
  return run;
};

/** Stops `npm start` as Ctrl-C does; a SIGKILL only if it does not stop in time. */
const stop = async (run: Run) => {
  if (run.child.exitCode !== null) return run.child.exitCode;
  run.child.kill('SIGINT');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
};
afterAll(async () => {
  for (const run of running) await stop(run);
  rmSync(work, { recursive: true, force: true });
});

const decoupledApi = async (run: Run) =>
  (await waitForOutput(run, /decoupled API\s+(http:\/\/\S+)/, 60_000))[1]!;

/** The read-model row, once the (asynchronous) projector has written it. */
const readModel = async (api: string, key: string) => {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${api}/read-models/customer-summary/${key}`);
    if (response.status === 200) return response.json();
    if (Date.now() > deadline) throw new Error(`no row ${key}: ${response.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('the walk-through: data kept across the restart, the rebuild prints a switch that keeps it', async () => {
  expect(DATA_DIR).toBe('.local-data/db');
  expect(COMMANDS.map((command) => command.type)).toEqual(['order/create', 'order/addLine']);

  // Given npm start with the guide's --data-dir (free ports: the reader's would be 3001, 3002),
  const ports = ['--decoupled-port', '0', '--coupled-port', '0', '--quiet'];
  const first = tool('cli.ts', ['--data-dir', DATA_DIR, ...ports]);
  const api = await decoupledApi(first);
  // and the guide's commands sent, the row is the one the guide shows.
  for (const command of COMMANDS) {
    const response = await fetch(`${api}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(command),
    });
    expect(response.status).toBe(202);
  }
  expect(await readModel(api, 'c-7')).toEqual(anyTextFor(V1_ANSWER));

  // When the rebuild runs (v1: the listed version; the guide lists v2 first),
  const rebuild = tool('rebuild-cli.ts', ['customer-summary', '--version', '1']);
  expect(await rebuild.exited).toBe(0);
  expect(rebuild.stdout).toContain('Caught up');
  // then the switch it prints restarts npm start with the data directory,
  const printed = /^ {2}((?:\w+=\S+ )*)npm start -- (.+)$/m.exec(rebuild.stdout);
  expect(printed).not.toBeNull();
  const [, envPart, argsPart] = printed!;
  const args = argsPart!.split(' ');
  expect(args).toEqual(['--data-dir', DATA_DIR, ...ports, '--serve', 'customer-summary=1']);
  expect(rebuild.stdout).not.toMatch(/in memory/);

  // and running it as printed, after Ctrl-C, serves the same data.
  expect(await stop(first)).toBe(0);
  const env = Object.fromEntries(
    envPart!
      .trim()
      .split(' ')
      .filter(Boolean)
      .map((pair) => pair.split(/=(.*)/).slice(0, 2)),
  );
  const second = tool('cli.ts', args, env);
  const restarted = await decoupledApi(second);
  expect(await readModel(restarted, 'c-7')).toEqual(anyTextFor(V1_ANSWER));
  const order = await (await fetch(`${restarted}/orders/order-42`)).json();
  expect(order).toMatchObject({ version: 2, lineCount: 1, total: 2598 });
  expect(await stop(second)).toBe(0);
});
