/**
 * The local runtime's process tree on every way out: `npm start` stopped by SIGTERM (nothing
 * left: gateway ports closed, no java), a hostile request that must not end it, the data of a
 * `--data-dir` surviving an ordinary stop (coupled commands: TransactWriteItems), and DynamoDB
 * Local stopped by its watchdog when its parent ends without cleaning up (uncaught error,
 * process.exit, SIGKILL).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, devToken, identityUrlIn } from '../support/dev-tokens';
import { orderLifecycle } from '../support/order-script';
import { type Run, runProcess, waitForOutput } from '../support/processes';

const run = (command: string, args: string[]) => runProcess(command, args);
const waitFor = waitForOutput;

/** Every process below `pid` (children, grandchildren...). */
const descendants = (pid: number): number[] => {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((pair) => pair.length === 2);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of table) {
      if (ppid === parent && child !== undefined) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** `java` processes (not their watchdog `sh`) listening on `port`. */
const javaOnPort = (port: string) =>
  execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((args) => args.startsWith('java ') && args.includes(`-port ${port} `));
const waitUntil = async (check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
};
const portClosed = (url: string) =>
  new Promise<boolean>((resolveClosed) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolveClosed(false);
    });
    socket.once('error', () => resolveClosed(true));
  });
const rawRequest = (url: string, text: string) =>
  new Promise<string>((resolveRaw, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString()));
    socket.on('end', () => resolveRaw(out));
    socket.on('error', reject);
  });
const send = async (base: string, token: string, body: unknown) => {
  const response = await fetch(`${base}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { version: number } };
};

/** Ends a run that a failed assertion left behind: SIGTERM, then SIGKILL if it hangs. */
const ensureStopped = async (started: Run | undefined) => {
  if (!started || started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill('SIGTERM');
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 15_000);
  await started.exited;
  clearTimeout(timer);
};

describe('npm start as a process tree', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifecycle-data-'));
  const flags = ['--decoupled-port', '0', '--coupled-port', '0', '--quiet', '--data-dir', dataDir];
  let first: Run | undefined;
  let second: Run | undefined;
  afterAll(async () => {
    await ensureStopped(first);
    await ensureStopped(second);
  });

  test('survives a hostile request; SIGTERM to the npm process stops every process under it, and the data written with transactions is there after a restart', async () => {
    first = run('npm', ['start', '--', ...flags]);
    const [, decoupled] = await waitFor(first, /decoupled API\s+(http:\/\/\S+)/);
    const [, coupled] = await waitFor(first, /(?:^|\s)coupled API\s+(http:\/\/\S+)/);
    const [, dynamoPort] = await waitFor(first, /DynamoDB Local http:\/\/127\.0\.0\.1:(\d+)/);
    await waitFor(first, /Ctrl-C stops everything/);
    const token = await devToken(identityUrlIn(first.stdout));

    // Issue 8, item 1: this request used to throw outside the gateway's try and end the process.
    for (const base of [decoupled!, coupled!]) {
      const answer = await rawRequest(
        base,
        'GET http://%zz/orders/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    }

    // Coupled commands: each one a TransactWriteItems (events + row). Written up to the moment
    // of the stop, so the last ones are the freshest in DynamoDB Local.
    const ids = [1, 2, 3].map((n) => `durable-${process.pid}-${n}`);
    for (const id of ids) {
      for (const command of orderLifecycle(id, 'c-durable')) {
        expect((await send(coupled!, token, command)).status).toBe(200);
      }
    }
    const decoupledId = `durable-${process.pid}-d`;
    expect((await send(decoupled!, token, orderLifecycle(decoupledId)[0])).status).toBe(202);

    const tree = descendants(first.child.pid!);
    expect(javaOnPort(dynamoPort!)).toHaveLength(1);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Nothing is left: every process that was under npm has ended, the ports are closed.
    expect(await waitUntil(() => tree.every((pid) => !alive(pid)), 5_000)).toBe(true);
    expect(javaOnPort(dynamoPort!)).toEqual([]);
    expect(await portClosed(decoupled!)).toBe(true);
    expect(await portClosed(coupled!)).toBe(true);

    // Same --data-dir: every acknowledged transaction is there.
    second = run('npm', ['start', '--', ...flags]);
    const [, coupledAgain] = await waitFor(second, /(?:^|\s)coupled API\s+(http:\/\/\S+)/);
    const [, decoupledAgain] = await waitFor(second, /decoupled API\s+(http:\/\/\S+)/);
    await waitFor(second, /Ctrl-C stops everything/);
    // A restart makes new signing keys: a token of the new identity provider.
    const headers = bearer(await devToken(identityUrlIn(second.stdout)));
    for (const id of ids) {
      const row = await fetch(`${coupledAgain}/orders/${id}`, { headers });
      expect(await row.json()).toMatchObject({ id, version: 8, status: 'cancelled', total: 6993 });
      const events = await fetch(`${coupledAgain}/orders/${id}/events`, { headers });
      expect(((await events.json()) as { events: unknown[] }).events).toHaveLength(8);
    }
    const events = await fetch(`${decoupledAgain}/orders/${decoupledId}/events`, { headers });
    expect(((await events.json()) as { events: unknown[] }).events).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 240_000); // two starts of DynamoDB Local and the tables on a busy machine
});

describe('DynamoDB Local ends with its parent, however the parent ends', () => {
  // A process that starts DynamoDB Local, prints its pid and then ends as told, without stop().
  const script = (ending: string) => `
    const { startDynamoDbLocal } = require('./local/emulators/dynamodb-local');
    startDynamoDbLocal().then((d) => {
      console.log('java ' + d.pid);
      setTimeout(() => { ${ending} }, 50);
    });`;

  test.each([
    ['an uncaught error', "throw new Error('crash');"],
    ['process.exit', 'process.exit(0);'],
    ['SIGKILL', "process.kill(process.pid, 'SIGKILL');"],
  ])(
    '%s',
    async (_label, ending) => {
      const parent = run(process.execPath, ['--import', 'tsx', '-e', script(ending)]);
      const [, pid] = await waitFor(parent, /java (\d+)/);
      await parent.exited;
      // The watchdog saw the lifeline close and sent SIGTERM: java shuts down by itself.
      expect(await waitUntil(() => !alive(Number(pid)), 15_000)).toBe(true);
    },
    120_000,
  );
});
