/**
 * Signing in to the local runtime: it starts the identity provider, records it in the runtime
 * file, both APIs and the WebSockets ask for its tokens, and `npm run token` prints one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { readRuntimeFile, writeRuntimeFile } from '../../local/emulators/runtime-file';
import { parseTokenCli, USAGE, UsageError } from '../../local/tools/token';
import { type Run, runProcess } from '../support/processes';
import { useLocalRuntime } from '../support/runtime';

const runtime = useLocalRuntime('token-cli');

const dir = mkdtempSync(join(tmpdir(), 'token-cli-'));
const runtimeFile = join(dir, 'local-runtime.json');
// As npm start writes it once the runtime is up (the hooks run in order: the runtime first).
beforeAll(() => writeRuntimeFile(runtime.current, runtimeFile));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokenCli = async (args: string[]): Promise<Run> => {
  const run = runProcess(process.execPath, ['--import', 'tsx', 'local/tools/token.ts', ...args]);
  await run.exited;
  return run;
};

/** The status of a WebSocket upgrade: 101 when it opened (then closed again). */
const upgradeStatus = (url: string) =>
  new Promise<number>((resolveStatus, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      socket.close();
      resolveStatus(101);
    });
    socket.once('unexpected-response', (_, response) => {
      resolveStatus(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });

test('the runtime serves its identity provider on a free port and records it in the runtime file', async () => {
  const { identity } = runtime.current;
  expect(identity.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(identity.issuer).toBe(identity.url);
  const discovery = await fetch(`${identity.url}/.well-known/openid-configuration`);
  expect(await discovery.json()).toMatchObject({ issuer: identity.issuer });
  expect(readRuntimeFile(runtimeFile)?.identity).toEqual({
    url: identity.url,
    audience: identity.audience,
  });
});

test('both APIs refuse a request without a token and let one with a token through', async () => {
  const token = runtime.current.identity.tokenFor('alice');
  for (const url of [runtime.current.decoupledUrl, runtime.current.coupledUrl]) {
    const refused = await fetch(`${url}/orders/token-cli-1`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ message: 'Unauthorized' });
    const allowed = await fetch(`${url}/orders/token-cli-1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(allowed.status).not.toBe(401);
  }
});

test('both WebSockets refuse $connect without a valid token (401) and accept one with ?token=', async () => {
  const token = runtime.current.identity.tokenFor('bob');
  for (const url of Object.values(runtime.current.websocketUrls)) {
    expect(await upgradeStatus(url!)).toBe(401);
    expect(await upgradeStatus(`${url}/?token=not-a-token`)).toBe(401);
    expect(await upgradeStatus(`${url}/?token=${token}`)).toBe(101);
  }
});

describe('npm run token', () => {
  test('prints just the token of the user, which the APIs accept', async () => {
    const run = await tokenCli(['--user', 'support', '--runtime-file', runtimeFile]);
    expect(run.stderr).toBe('');
    expect(run.child.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = run.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
    expect(claims).toMatchObject({ sub: 'support', 'cognito:groups': ['support'] });
    const response = await fetch(`${runtime.current.decoupledUrl}/orders/token-cli-1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).not.toBe(401);
  });

  test('an unknown user: exit 2, naming the known ones', async () => {
    const run = await tokenCli(['--user', 'mallory', '--runtime-file', runtimeFile]);
    expect(run.child.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'Unknown user "mallory": the dev users are alice, bob, support, admin',
    );
  });

  test('no running runtime: exit 1, saying to start it', async () => {
    const run = await tokenCli(['--user', 'alice', '--runtime-file', join(dir, 'none.json')]);
    expect(run.child.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: no running local runtime .*start it with npm start\n$/);
  });

  test('an unknown flag: exit 2 (--role is no flag: roles belong to the dev user)', async () => {
    const run = await tokenCli(['--role', 'support']);
    expect(run.child.exitCode).toBe(2);
    expect(run.stderr).toContain("error: Unknown option '--role'");
  });

  test('no --user is a usage error; --help asks for nothing', () => {
    expect(() => parseTokenCli([])).toThrow(UsageError);
    expect(() => parseTokenCli([])).toThrow(/--user is required/);
    expect(() => parseTokenCli(['extra'])).toThrow(UsageError);
    expect(parseTokenCli(['--help'])).toEqual({ help: true });
    expect(USAGE).toContain('--user <name>');
  });
});
