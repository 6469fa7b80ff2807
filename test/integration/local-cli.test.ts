/**
 * `npm start` as a process: the banner, SIGTERM stopping everything, and each failure mode
 * ending with one clear line and a non-zero exit (bad flag, port in use, no Java, DynamoDB
 * Local dying at start).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../../local/tools/cli';
import { readRuntimeFile } from '../../local/emulators/runtime-file';
import { bearer, devToken, identityUrlIn } from '../support/dev-tokens';
import { type Run, runProcess, waitForOutput } from '../support/processes';

const startCli = (args: string[], env: NodeJS.ProcessEnv = process.env): Run =>
  // The demo app on a free port, unless a test says otherwise.
  runProcess(process.execPath, ['--import', 'tsx', 'local/tools/cli.ts', ...args], {
    WEB_PORT: '0',
    ...env,
  });

const waitFor = (run: Run, text: string, timeoutMs = 45_000) => waitForOutput(run, text, timeoutMs);

/** `java` processes (not DynamoDB Local's watchdog `sh`) whose command line has `text`. */
const javaWith = (text: string) =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith('java ') && line.includes(text));

test('starts both stacks, prints URLs, settings and curl examples, and SIGTERM stops everything', async () => {
  const run = startCli(['--decoupled-port', '0', '--coupled-port', '0', '--poll-interval', '50']);
  try {
    await waitFor(run, 'Ctrl-C stops everything');
    const url = (name: string) =>
      new RegExp(`(?:^|\\s)${name} API\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(run.stdout)?.[1];
    const decoupled = url('decoupled');
    const coupled = url('coupled');
    expect(decoupled).toBeDefined();
    expect(coupled).toBeDefined();
    const identity = identityUrlIn(run.stdout);
    // The operator tools' runtime file: the APIs' real ports, the identity provider (where
    // `npm run token` asks) and how npm start was started.
    expect(readRuntimeFile()).toMatchObject({
      apiUrls: { decoupled, coupled },
      identity: { url: identity },
      start: {
        args: ['--decoupled-port', '0', '--coupled-port', '0', '--poll-interval', '50'],
        env: { WEB_PORT: '0' },
      },
    });
    expect(run.stdout).toContain('poll 50 ms, batch 100');
    expect(run.stdout).toContain('curl -s -X POST');
    const dynamoPort = /DynamoDB Local http:\/\/127\.0\.0\.1:(\d+)/.exec(run.stdout)?.[1];
    expect(javaWith(`-port ${dynamoPort} `)).toHaveLength(1);

    const response = await fetch(`${coupled}/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-correlation-id': 'cli-test',
        ...bearer(await devToken(identity)),
      },
      body: JSON.stringify({
        type: 'order/create',
        aggregateId: 'cli-1',
        payload: { customerId: 'c-1', currency: 'EUR' },
      }),
    });
    expect(response.status).toBe(200);

    // The demo app: its URL printed, the stacks' and the identity provider's URLs in its config,
    // its origin allowed by CORS.
    const app = /demo app\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    expect(app).toBeDefined();
    expect(await (await fetch(`${app}/`)).text()).toContain('<script src="/app.js">');
    expect(await (await fetch(`${app}/config.json`)).json()).toEqual({
      apis: { decoupled, coupled },
      websockets: {
        decoupled: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/),
        coupled: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/),
      },
      // The hosted sign-in flow the page runs, on the dev identity provider as on Cognito.
      identity: {
        url: identity,
        issuer: identity,
        signInUrl: identity,
        clientId: 'local-demo-app',
      },
    });
    const preflight = await fetch(`${decoupled}/commands`, {
      method: 'OPTIONS',
      headers: { origin: app!, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(app);

    // One request, one log line: method, path, status, duration, correlation id.
    await waitFor(run, 'cli-test');
    expect(run.stdout).toMatch(/\[coupled\] POST \/commands 200 \d+\.\dms cli-test/);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toContain('Stopped.');
    expect(javaWith(`-port ${dynamoPort} `)).toEqual([]);
  } finally {
    // Even when an assertion failed: SIGTERM lets the CLI stop DynamoDB Local (a SIGKILL would
    // orphan it); SIGKILL only if it does not exit in time.
    if (run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      await run.exited;
      clearTimeout(timer);
    }
  }
});

describe('failure modes: one clear line, non-zero exit', () => {
  let blocker: Server;
  let blockedPort: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    blockedPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  test('an unknown flag or a bad value', async () => {
    const run = startCli(['--decoupled-port', 'abc']);
    expect(await run.exited).toBe(2);
    expect(run.stderr).toContain('error: --decoupled-port must be an integer from 0 to 65535');
  });

  test('a port in use', async () => {
    const run = startCli(['--decoupled-port', String(blockedPort), '--coupled-port', '0']);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(
      `error: The decoupled API port ${blockedPort} on 127.0.0.1 is already in use`,
    );
  });

  test('no Java: says how to install it', async () => {
    const run = startCli(['--decoupled-port', '0', '--coupled-port', '0'], {
      ...process.env,
      PATH: '/nonexistent',
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toMatch(
      /error: Java was not found\. DynamoDB Local needs a Java 17\+ runtime: install one/,
    );
    expect(run.stderr).toContain('apt-get install -y openjdk-17-jre-headless');
  });

  test('DynamoDB Local dying at start: the tail of its log', async () => {
    // A `java` that passes the version check and then fails as a broken install would.
    const bin = mkdtempSync(join(tmpdir(), 'fake-java-'));
    const java = join(bin, 'java');
    writeFileSync(
      java,
      [
        '#!/bin/sh',
        'if [ "$1" = "-version" ]; then echo \'openjdk version "17.0.9"\' >&2; exit 0; fi',
        'echo "Error: Could not find or load main class com.amazonaws.DynamoDBLocal" >&2',
        'exit 1',
      ].join('\n'),
    );
    chmodSync(java, 0o755);
    const run = startCli(['--decoupled-port', '0', '--coupled-port', '0'], {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(
      'error: DynamoDB Local exited with code 1 at start. Last lines of its log:',
    );
    expect(run.stderr).toContain('Could not find or load main class');
  });
});

describe('parseCli', () => {
  test('the demo app port (default 3000) and the CORS origins (flag over CORS_ORIGINS)', () => {
    expect(parseCli([], {})).toMatchObject({ help: false, web: { port: 3000 } });
    expect(parseCli([], {}).help === false && parseCli([], {})).not.toHaveProperty(
      'options.corsOrigins',
    );
    expect(
      parseCli(['--web-port', '0', '--cors-origins', 'https://a.example,http://localhost:5173'], {
        CORS_ORIGINS: '*',
      }),
    ).toMatchObject({
      web: { port: 0 },
      options: { corsOrigins: ['https://a.example', 'http://localhost:5173'] },
    });
    expect(parseCli([], { WEB_PORT: '4000', CORS_ORIGINS: '*' })).toMatchObject({
      web: { port: 4000 },
      options: { corsOrigins: ['*'] },
    });
  });

  test('defaults, flags over environment variables, Lambda poller defaults', () => {
    const parsed = parseCli(['--coupled-port', '4002', '--bisect', '--max-retries', '3'], {
      COUPLED_PORT: '5002',
      DECOUPLED_PORT: '5001',
      LOCAL_HOST: '0.0.0.0',
    });
    expect(parsed).toMatchObject({
      help: false,
      options: {
        host: '0.0.0.0',
        decoupledPort: 5001,
        coupledPort: 4002,
        poller: {
          bisectOnError: true,
          maxRetries: 3,
          onFailureFile: '.local-data/failed-records.jsonl',
        },
      },
    });
  });

  test('a fast poll with an idle cadence (local only; off by default)', () => {
    expect(parseCli([], {})).toMatchObject({
      options: { poller: { idlePollIntervalMs: undefined } },
    });
    expect(parseCli(['--poll-interval', '10', '--idle-poll-interval', '250'], {})).toMatchObject({
      options: { poller: { pollIntervalMs: 10, idlePollIntervalMs: 250 } },
    });
  });

  test.each([
    [
      ['--idle-poll-interval', '100'],
      '--idle-poll-interval must be 0 or at least the poll interval (250 ms; got 100)',
    ],
    [['--idle-poll-interval=-1'], '--idle-poll-interval must be an integer from 0 to 60000'],
    [['--batch-size', '0'], '--batch-size must be an integer from 1 to 10000'],
    [['--max-retries=-2'], '--max-retries must be an integer from -1 to 10000'],
    [['--log-level', 'LOUD'], '--log-level must be one of'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['extra'], 'Unexpected argument'],
    [['--web-port', '70000'], '--web-port must be an integer from 0 to 65535'],
    [['--cors-origins', 'localhost:3000'], '--cors-origins: "localhost:3000" is not an origin'],
  ])('%j is refused', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });
});
