/**
 * docs/guide/change-a-read-model.md, "Rebuild, switch, ...", followed up to the switch, in a copy
 * of the project's source (its own `.local-data/`, and a deployment.ts this test may edit):
 * `npm start -- --data-dir .local-data/db` (the CLI as a process), the guide's commands, its
 * edit (v2 listed), `npm run rebuild -- customer-summary --version 2`, and the switch command the
 * rebuild prints, run as printed. Each answer must be the one the guide shows. Departures: the
 * edit is made before the first start, saving step 1's restart (each start costs seconds of
 * DynamoDB Local and the demo app's build); free ports (`--decoupled-port 0 ...`; a reader has
 * 3001); `node --import tsx local/tools/...` in place of the npm scripts (`npm start` also runs
 * the set-up check, scripts/setup.sh); a new sign-in after the switch's restart (the identity
 * provider's keys live as long as its process, so the first token is refused by then).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS_FROM_ENV } from '../../local/tools/cli';
import { ROOT } from '../support/doc-blocks';
import { type Run, runProcess, waitForOutput } from '../support/processes';

const GUIDE = readFileSync(join(ROOT, 'docs/guide/change-a-read-model.md'), 'utf8');
const WALK_THROUGH = GUIDE.slice(GUIDE.indexOf('## Rebuild, switch'));
/** The flags the guide starts `npm start` with. */
const START = /^npm start -- (--data-dir \S+)$/m.exec(WALK_THROUGH)![1]!.split(' ');
/** The dev user the guide signs in as (`npm run -s token -- --user <name>`). */
const USER = /npm run -s token -- --user (\w+)/.exec(WALK_THROUGH)![1]!;
/** The read-model row the guide's curl asks for. */
const ROW_PATH = /curl -s -H "\$AUTH" \$API(\/read-models\/\S+)/.exec(WALK_THROUGH)![1]!;
/** The bodies the guide's curl commands POST, in order. */
const COMMANDS = [...WALK_THROUGH.matchAll(/-d '(\{.*\})'/g)].map((m) => JSON.parse(m[1]!));
/** The guide's answers: v1's row after the commands, v2's after the switch ("…": any text). */
const [V1_ANSWER, V2_ANSWER] = [...WALK_THROUGH.matchAll(/```json\n([\s\S]*?)```/g)].map((m) =>
  JSON.parse(m[1]!),
);
/** What the guide says the rebuild prints. */
const REBUILD_OUTPUT = /```text\n([\s\S]*?)```/
  .exec(WALK_THROUGH)![1]!
  .split('\n')
  .map((line) => line.trimStart())
  .filter(Boolean);

const anyTextFor = (value: unknown): unknown =>
  value === '…'
    ? expect.any(String)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, anyTextFor(v)]))
      : value;

// The reader's checkout: the source the CLI runs, node_modules shared.
const checkout = mkdtempSync(join(tmpdir(), 'walk-through-'));
// No package.json: a second one named like the project's would collide in Jest's module map.
for (const path of ['lambdas', 'local', 'client', 'web', 'tsconfig.json']) {
  cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
}
symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));

/** Free ports: the test's only flags beyond the guide's. */
const PORTS = ['--decoupled-port', '0', '--coupled-port', '0', '--web-port', '0', '--quiet'];
/** The environment without the settings npm start reads from it: only the flags count. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !(SETTINGS_FROM_ENV as readonly string[]).includes(name),
  ),
);
const running: Run[] = [];
const tool = (file: string, args: readonly string[]) => {
  const run = runProcess(
    process.execPath,
    ['--import', 'tsx', join('local/tools', file), ...args],
    env,
    checkout,
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
  rmSync(checkout, { recursive: true, force: true });
});

const decoupledApi = async (run: Run) =>
  (await waitForOutput(run, /decoupled API\s+(http:\/\/\S+)/, 60_000))[1]!;

/** The guide's `npm run -s token -- --user <USER>`: a token from the running npm start. */
const signIn = async () => {
  const token = tool('token.ts', ['--user', USER]);
  expect(await token.exited).toBe(0);
  return { authorization: `Bearer ${token.stdout.trim()}` };
};

/** The customer's row once it has `version` (the projector is asynchronous). */
const readModel = async (api: string, version: number, auth: Record<string, string>) => {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${api}${ROW_PATH}`, { headers: auth });
    const body = (await response.json()) as { version?: number };
    if (response.status === 200 && body.version === version) return body;
    if (Date.now() > deadline) throw new Error(`no v${version} row: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('the walk-through: v1 then v2 from one data directory, the answers the guide shows', async () => {
  expect(START).toEqual(['--data-dir', '.local-data/db']);
  expect(COMMANDS.map((command) => command.type)).toEqual(['order/create', 'order/addLine']);
  expect({ USER, ROW_PATH }).toEqual({
    USER: 'alice',
    ROW_PATH: '/read-models/customer-summary/alice',
  });

  // Step 1's edit first (v2 listed beside v1), saving the restart it asks for: npm start with
  // the guide's --data-dir, the guide's commands, and v1's row (still the one served).
  const deployment = join(checkout, 'lambdas/handlers/deployment.ts');
  const listed = readFileSync(deployment, 'utf8')
    .replace(/(import \{\n\s*customerSummaryProjection,\n)/, '$1  customerSummaryV2Projection,\n')
    .replace(
      /(PROJECTIONS[^=]*= \[\n(\s*\w+,\n)*?\s*customerSummaryProjection,\n)/,
      '$1  customerSummaryV2Projection,\n',
    );
  expect(listed.match(/customerSummaryV2Projection/g)).toHaveLength(2);
  writeFileSync(deployment, listed);
  const first = tool('cli.ts', [...START, ...PORTS]);
  const api = await decoupledApi(first);
  const auth = await signIn();
  for (const command of COMMANDS) {
    const response = await fetch(`${api}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(command),
    });
    expect(response.status).toBe(202);
  }
  expect(await readModel(api, 1, auth)).toEqual(anyTextFor(V1_ANSWER));

  // 2. The rebuild: caught up, and the switch command it prints keeps --data-dir.
  const rebuild = tool('rebuild-cli.ts', ['customer-summary', '--version', '2']);
  expect(await rebuild.exited).toBe(0);
  const printed = rebuild.stdout.split('\n').map((line) => line.trimStart());
  const withoutPorts = (line: string) => line.replace(` ${PORTS.join(' ')}`, '');
  expect(printed.map(withoutPorts)).toEqual(expect.arrayContaining(REBUILD_OUTPUT));

  // 3. The switch, run as printed after Ctrl-C: the data is still there, and v2's row served.
  const command = printed.find((line) => line.startsWith('npm start -- '))!;
  expect(await stop(first)).toBe(0);
  const second = tool('cli.ts', command.slice('npm start -- '.length).split(' '));
  const apiAgain = await decoupledApi(second);
  expect(await readModel(apiAgain, 2, await signIn())).toEqual(anyTextFor(V2_ANSWER));
  expect(await stop(second)).toBe(0);
  // Two starts of DynamoDB Local and the demo app's build: ~30 s on a busy 2-core machine.
}, 120_000);
