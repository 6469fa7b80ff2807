/**
 * `npm run new -- aggregate gift-card` in a copy of the project: the copy type-checks, the
 * generated test passes, `npm start` (local/tools/cli.ts) accepts `giftCard/...` commands and serves
 * `/read-models/gift-card/<id>` on both stacks, with no other edit. Refusals write nothing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bearer, devToken, identityUrlIn } from '../support/dev-tokens';
import { ROOT } from '../support/processes';

const NODE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
delete NODE_ENV.JEST_WORKER_ID;

let copy: string;

/** The project's files as git sees them (tracked and new, not ignored), copied to a temp dir. */
const copyProject = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'scaffold-'));
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: ROOT, encoding: 'utf8' },
  )
    .split('\0')
    .filter((file) => file !== '');
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    // A tracked file deleted in the working tree is not copied.
    try {
      cpSync(join(ROOT, file), join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
};

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <args>` in the copy to its end. */
const node = (args: readonly string[]): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: copy, env: NODE_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const scaffold = (...args: string[]) => node(['--import', 'tsx', 'scripts/new.ts', ...args]);

/** Every file under lambdas/ and test/ with its text, and the deployment list. */
const snapshot = () =>
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: copy,
    encoding: 'utf8',
  }) + readFileSync(join(copy, 'lambdas/handlers/deployment.ts'), 'utf8');

beforeAll(() => {
  copy = copyProject();
  // A repository in the copy, so `git status` shows what a run wrote.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'copy');
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

test.each([
  [[], 2, 'missing the subcommand'],
  [['model', 'gift-card'], 2, 'unknown subcommand "model"'],
  [['aggregate', 'GiftCard'], 1, 'not a valid name'],
  [['aggregate', 'core'], 1, 'reserved'],
  [['aggregate', 'shopping-list'], 1, 'already exists'],
  [['aggregate', 'owner-lists'], 1, 'a read model is already named'],
])('%p: exit %s, a clear error, nothing written', async (args, code, message) => {
  const before = snapshot();
  const run = await scaffold(...args);
  expect(run.code).toBe(code);
  expect(run.stderr).toContain(message);
  expect(run.stderr).toContain('Nothing was written.');
  if (code === 2) expect(run.stderr).toContain('Usage: npm run new -- aggregate <name>');
  expect(snapshot()).toBe(before);
});

describe('npm run new -- aggregate gift-card', () => {
  test('writes the domain, its test and the registration, and says what next', async () => {
    const run = await scaffold('aggregate', 'gift-card');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const file of [
      'lambdas/domain/gift-card/commands.ts',
      'lambdas/domain/gift-card/events.ts',
      'lambdas/domain/gift-card/reducer.ts',
      'lambdas/domain/gift-card/decide.ts',
      'lambdas/domain/gift-card/index.ts',
      'lambdas/domain/gift-card/permissions.ts',
      'lambdas/domain/gift-card/projections.ts',
      'lambdas/domain/gift-card/examples.ts',
      'test/unit/gift-card-decide.test.ts',
      'lambdas/handlers/deployment.ts',
    ]) {
      expect(run.stdout).toContain(`  ${file}\n`);
    }
    expect(run.stdout).toContain('npx jest test/unit/gift-card-decide.test.ts');
    expect(run.stdout).toContain('"type":"giftCard/create"');
    expect(run.stdout).toContain('/gift-cards/gift-card-1?minVersion=1');
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
      cwd: copy,
      encoding: 'utf8',
    });
    expect(changed.split('\n').filter(Boolean).sort()).toEqual([
      ' M lambdas/handlers/deployment.ts',
      '?? lambdas/domain/gift-card/commands.ts',
      '?? lambdas/domain/gift-card/decide.ts',
      '?? lambdas/domain/gift-card/events.ts',
      '?? lambdas/domain/gift-card/examples.ts',
      '?? lambdas/domain/gift-card/index.ts',
      '?? lambdas/domain/gift-card/permissions.ts',
      '?? lambdas/domain/gift-card/projections.ts',
      '?? lambdas/domain/gift-card/reducer.ts',
      '?? test/unit/gift-card-decide.test.ts',
    ]);
  });

  test('a second run with the same name fails and writes nothing', async () => {
    const before = snapshot();
    const run = await scaffold('aggregate', 'gift-card');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('lambdas/domain/gift-card/ already exists');
    expect(snapshot()).toBe(before);
  });

  test('the copy type-checks and is formatted', async () => {
    const tsc = await node(['node_modules/typescript/bin/tsc', '--noEmit']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
    const prettier = await node([
      'node_modules/prettier/bin/prettier.cjs',
      '--check',
      'lambdas/domain/gift-card',
      'lambdas/handlers/deployment.ts',
      'test/unit/gift-card-decide.test.ts',
    ]);
    expect(prettier.code).toBe(0);
  }, 240_000);

  test('the generated given/when/then test passes', async () => {
    const jest = await node([
      'node_modules/jest/bin/jest.js',
      '--ci',
      '--verbose',
      '--selectProjects=unit',
      '--',
      'test/unit/gift-card-decide.test.ts',
      'test/unit/source-states-immutable.test.ts',
    ]);
    expect(jest.stderr).toContain('PASS unit test/unit/gift-card-decide.test.ts');
    // The projection immutability check folds the new aggregate's example histories too.
    expect(jest.stderr).toContain('gift-card v1: neither the source reducer');
    expect(jest.stderr).toContain('Test Suites: 2 passed, 2 total');
    expect(jest.stderr).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(jest.code).toBe(0);
  }, 120_000);

  test('npm start accepts giftCard commands and serves /read-models/gift-card/<id> and /gift-cards/<id> on both stacks', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'local/tools/cli.ts',
        '--decoupled-port',
        '0',
        '--coupled-port',
        '0',
        '--poll-interval',
        '50',
        '--quiet',
      ],
      { cwd: copy, env: { ...NODE_ENV, WEB_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('Ctrl-C stops everything')) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`npm start did not come up:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = (name: string) =>
        new RegExp(`${name} API\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(output)![1]!;
      // As the dev admin: the test is about the scaffold, not about who may do what.
      const auth = bearer(await devToken(identityUrlIn(output)));

      for (const [stack, id] of [
        ['decoupled', 'card-d'],
        ['coupled', 'card-c'],
      ] as const) {
        const api = url(stack);
        const send = (type: string, payload: unknown) =>
          fetch(`${api}/commands`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...auth },
            body: JSON.stringify({ type, aggregateId: id, payload }),
          });
        expect((await send('giftCard/create', { name: ' Birthday ' })).status).toBeLessThan(300);
        expect((await send('giftCard/rename', { name: 'Anniversary' })).status).toBeLessThan(300);

        // The row follows through the stream projector: poll, bounded.
        let row: unknown;
        const until = Date.now() + 20_000;
        for (;;) {
          const response = await fetch(`${api}/read-models/gift-card/${id}`, { headers: auth });
          row = response.status === 200 ? await response.json() : undefined;
          if ((row as { row?: { version?: number } } | undefined)?.row?.version === 2) break;
          if (Date.now() > until)
            throw new Error(`${stack}: no row at version 2, last ${JSON.stringify(row)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(row).toMatchObject({
          readModel: 'gift-card',
          row: { id, name: 'Anniversary', status: 'active', version: 2 },
        });
        // Its collection route, derived from the registration: GET /gift-cards/{id}.
        const viewed = await fetch(`${api}/gift-cards/${id}?minVersion=2`, { headers: auth });
        expect(viewed.status).toBe(200);
        expect(await viewed.json()).toMatchObject({ id, name: 'Anniversary', version: 2 });

        // The generated rule holds at the edge.
        expect((await send('giftCard/delete', {})).status).toBeLessThan(300);
        const refused = await send('giftCard/rename', { name: 'Again' });
        expect(refused.status).toBe(422);
        expect(await refused.json()).toMatchObject({
          error: { code: 'RULE_VIOLATED', details: { rule: 'DELETED' } },
        });
      }
    } finally {
      // SIGTERM lets the CLI stop DynamoDB Local; SIGKILL only if it does not exit in time.
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    }
  }, 180_000);
});
