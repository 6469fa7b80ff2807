/** The benchmark's command line (the token of remote mode included), and the region of an API URL. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_OUT_DIR,
  MAX_WORKFLOW_ORDERS,
  parseArgs,
  PUBLISH_DIR,
  readOutputsFile,
  regionFromUrl,
  UsageError,
} from '../../bench/args';
import { ApiClient } from '../../bench/http';
import { commandAt, historyEvents, OrderSession } from '../../bench/orders';
import { DEFAULT_SETTINGS, historyPlan } from '../../bench/settings';

/** A token's shape (header.payload.signature), unsigned: the bench reads it, the gateway verifies. */
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'RS256', kid: 'k' }, claims, 'signature']
    .map((part) =>
      Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url'),
    )
    .join('.');

const NOW = Date.parse('2026-12-06T10:00:00Z');
const inMinutes = (minutes: number) => Math.floor((NOW + minutes * 60_000) / 1000);
const ADMIN_TOKEN = jwt({
  sub: 'u-admin',
  'cognito:groups': ['admin'],
  token_use: 'id',
  exp: inMinutes(60),
});
/** Remote mode's token from the environment, as `BENCH_TOKEN=$(token_of admin)` sets it. */
const WITH_TOKEN = { env: { BENCH_TOKEN: ADMIN_TOKEN }, now: NOW };

const OUTPUTS = {
  'ReduxBackend-Decoupled': {
    ApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/',
    EventTableName: 'ReduxBackend-Decoupled-Events',
    ProjectionsTableName: 'ReduxBackend-Decoupled-Projections',
    DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
  },
  'ReduxBackend-Coupled': {
    ApiUrl: 'https://def456.execute-api.eu-west-1.amazonaws.com/',
    EventTableName: 'ReduxBackend-Coupled-Events',
    ProjectionsTableName: 'ReduxBackend-Coupled-Projections',
  },
};

const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const text = contents[path];
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    }
    return text;
  };

const usageError = (
  argv: string[],
  message: RegExp,
  readFile?: (path: string) => string,
  env: Record<string, string> = WITH_TOKEN.env,
) => {
  let thrown: unknown;
  try {
    parseArgs(argv, { readFile, env, now: NOW });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  expect((thrown as Error).message).toMatch(message);
};

describe('parseArgs', () => {
  test('no arguments: local mode, default settings, the ignored .bench-results', () => {
    expect(parseArgs([])).toEqual({
      help: false,
      quick: false,
      out: DEFAULT_OUT_DIR,
      target: { mode: 'local' },
    });
  });

  test('history plan: fewer orders at long histories, the same samples at every length', () => {
    const history = DEFAULT_SETTINGS.history;
    expect(history.lengths).toContain(10_000);
    expect(historyPlan(history, 10)).toEqual({ orders: 5, samples: 25 });
    expect(historyPlan(history, 1000)).toEqual({ orders: 5, samples: 25 });
    expect(historyPlan(history, 5000)).toEqual({ orders: 2, samples: 25 });
    expect(historyPlan(history, 10_000)).toEqual({ orders: 1, samples: 25 });
    expect(historyPlan(history, 100_000)).toEqual({ orders: 1, samples: 25 });
  });

  test('--quick and --out (also as --out=dir)', () => {
    expect(parseArgs(['--quick', '--out', '/tmp/x'])).toMatchObject({ quick: true, out: '/tmp/x' });
    expect(parseArgs(['--out=/tmp/y'])).toMatchObject({ quick: false, out: '/tmp/y' });
  });

  test('--profile-overhead: only the 1-client sweep, with any other option', () => {
    expect(parseArgs(['--profile-overhead'])).toEqual({
      help: false,
      quick: false,
      overhead: true,
      out: DEFAULT_OUT_DIR,
      target: { mode: 'local' },
    });
    expect(parseArgs(['--quick'])).not.toHaveProperty('overhead');
    usageError(['--profile-overhead=1'], /--profile-overhead takes no value/);
  });

  test('--workflow-orders sizes the workflow sweep, and 0 skips it', () => {
    expect(parseArgs(['--workflow-orders', '12'])).toEqual({
      help: false,
      quick: false,
      workflowOrders: 12,
      out: DEFAULT_OUT_DIR,
      target: { mode: 'local' },
    });
    expect(parseArgs(['--quick', '--workflow-orders=0'])).toMatchObject({ workflowOrders: 0 });
    expect(parseArgs(['--quick'])).not.toHaveProperty('workflowOrders');
  });

  test('--workflow-orders: a whole number within what a SKU can hold, not with --profile-overhead', () => {
    usageError(['--workflow-orders', '-1'], /needs a value|whole number/);
    usageError(['--workflow-orders', '2.5'], /whole number from 0 to 500, got '2.5'/);
    usageError(['--workflow-orders', 'many'], /whole number/);
    usageError(['--workflow-orders', String(MAX_WORKFLOW_ORDERS + 1)], /from 0 to 500/);
    expect(parseArgs(['--workflow-orders', String(MAX_WORKFLOW_ORDERS)])).toMatchObject({
      workflowOrders: MAX_WORKFLOW_ORDERS,
    });
    usageError(
      ['--profile-overhead', '--workflow-orders', '3'],
      /does not apply to --profile-overhead/,
    );
    usageError(['--workflow-orders'], /--workflow-orders needs a value/);
  });

  test('the default output is ignored by git; only --publish writes the committed results', () => {
    const ignored = readFileSync(join(__dirname, '../../.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain(`${DEFAULT_OUT_DIR}/`);
    expect(PUBLISH_DIR).toBe('bench/results');
    expect(ignored.filter((line) => [PUBLISH_DIR, `${PUBLISH_DIR}/`].includes(line))).toEqual([]);
  });

  test('--publish: the results to bench/results and into the docs; not with --out', () => {
    expect(parseArgs(['--publish'])).toEqual({
      help: false,
      quick: false,
      publish: true,
      out: PUBLISH_DIR,
      target: { mode: 'local' },
    });
    expect(parseArgs(['--quick'])).not.toHaveProperty('publish');
    usageError(['--publish', '--out', '/tmp/x'], /either --publish or --out/);
    usageError(['--publish', '--profile-overhead'], /needs a full run/);
    usageError(['--publish=yes'], /--publish takes no value/);
  });

  test('--publish-only: nothing runs; alone', () => {
    expect(parseArgs(['--publish-only'])).toEqual({ help: false, publishOnly: true });
    usageError(['--publish-only', '--quick'], /--publish-only takes no other option/);
  });

  test('--help and -h win over everything else', () => {
    expect(parseArgs(['--help'])).toEqual({ help: true });
    expect(parseArgs(['--quick', '-h'])).toEqual({ help: true });
  });

  test('an unknown flag, a stray argument, a missing value are usage errors', () => {
    usageError(['--fast'], /unknown option --fast/);
    usageError(['quick'], /unexpected argument 'quick'/);
    usageError(['--out'], /--out needs a value/);
    usageError(['--out', '--quick'], /--out needs a value/);
    usageError(['--quick=yes'], /--quick takes no value/);
    usageError(['--out', 'a', '--out', 'b'], /given twice/);
  });

  test('--outputs reads both stacks, their tables and the region from the URL', () => {
    const args = parseArgs(['--outputs', 'out.json'], {
      ...WITH_TOKEN,
      readFile: files({ 'out.json': JSON.stringify(OUTPUTS) }),
    });
    expect(args).toEqual({
      help: false,
      quick: false,
      out: DEFAULT_OUT_DIR,
      target: {
        mode: 'remote',
        token: ADMIN_TOKEN,
        region: 'eu-west-1',
        decoupled: {
          url: OUTPUTS['ReduxBackend-Decoupled'].ApiUrl,
          eventTable: 'ReduxBackend-Decoupled-Events',
          projectionsTable: 'ReduxBackend-Decoupled-Projections',
        },
        coupled: {
          url: OUTPUTS['ReduxBackend-Coupled'].ApiUrl,
          eventTable: 'ReduxBackend-Coupled-Events',
          projectionsTable: 'ReduxBackend-Coupled-Projections',
        },
      },
    });
  });

  test('a missing, unreadable or incomplete outputs file is a usage error', () => {
    usageError(['--outputs', 'missing.json'], /outputs file not found: missing.json/, files({}));
    usageError(['--outputs', 'bad.json'], /not valid JSON/, files({ 'bad.json': '{' }));
    usageError(['--outputs', 'list.json'], /not a CDK outputs file/, files({ 'list.json': '[]' }));
    const onlyDecoupled = { 'ReduxBackend-Decoupled': OUTPUTS['ReduxBackend-Decoupled'] };
    usageError(
      ['--outputs', 'one.json'],
      /no Coupled stack/,
      files({ 'one.json': JSON.stringify(onlyDecoupled) }),
    );
    const noUrl = { ...OUTPUTS, 'ReduxBackend-Coupled': { EventTableName: 'x' } };
    usageError(
      ['--outputs', 'nourl.json'],
      /has no ApiUrl/,
      files({ 'nourl.json': JSON.stringify(noUrl) }),
    );
  });

  test('URLs instead of an outputs file: both needed, both valid', () => {
    const decoupled = 'https://a1.execute-api.us-east-2.amazonaws.com';
    const coupled = 'https://b2.execute-api.us-east-2.amazonaws.com';
    expect(
      parseArgs(['--decoupled-url', decoupled, '--coupled-url', coupled], WITH_TOKEN),
    ).toMatchObject({
      target: { mode: 'remote', region: 'us-east-2', decoupled: { url: decoupled } },
    });
    usageError(['--decoupled-url', decoupled], /needs both --decoupled-url and --coupled-url/);
    usageError(['--decoupled-url', 'not a url', '--coupled-url', coupled], /not a valid URL/);
    usageError(
      ['--decoupled-url', 'ftp://x', '--coupled-url', coupled],
      /must be an http\(s\) URL/,
    );
    usageError(
      ['--outputs', 'o.json', '--coupled-url', coupled],
      /either --outputs or --decoupled-url/,
    );
  });

  test('a custom domain has no region for the floor unless --region names it', () => {
    const urls = [
      '--decoupled-url',
      'https://api.example.com/d',
      '--coupled-url',
      'https://api.example.com/c',
    ];
    expect(parseArgs(urls, WITH_TOKEN)).toMatchObject({ target: { mode: 'remote' } });
    expect(parseArgs(urls, WITH_TOKEN)).not.toHaveProperty('target.region');
    expect(parseArgs([...urls, '--region', 'eu-central-1'], WITH_TOKEN)).toMatchObject({
      target: { region: 'eu-central-1' },
    });
  });

  test('--region and --token are for remote mode only', () => {
    usageError(['--token', ADMIN_TOKEN], /only apply to remote mode/);
    usageError(['--region', 'eu-west-1'], /only apply to remote mode/);
  });
});

describe('the token of remote mode', () => {
  const urls = [
    '--decoupled-url',
    'https://a1.execute-api.us-east-2.amazonaws.com',
    '--coupled-url',
    'https://b2.execute-api.us-east-2.amazonaws.com',
  ];

  test('given neither --token nor BENCH_TOKEN, the error says where to get one', () => {
    usageError(
      urls,
      /needs a token: --token <jwt> or BENCH_TOKEN=<jwt>.*deploying\.md/,
      undefined,
      {},
    );
    usageError(urls, /needs a token/, undefined, { BENCH_TOKEN: '  ' });
  });

  test('--token wins over BENCH_TOKEN', () => {
    const other = jwt({ sub: 'u-2', 'cognito:groups': ['admin'], exp: inMinutes(30) });
    expect(parseArgs([...urls, '--token', other], WITH_TOKEN)).toMatchObject({
      target: { token: other },
    });
  });

  test.each([
    ['not a JWT', 'opaque-token', /--token: the token is not a JWT/],
    [
      'expired',
      jwt({ sub: 'u-admin', 'cognito:groups': ['admin'], exp: inMinutes(-1) }),
      /--token: the token expired at 2026-12-06T09:59:00\.000Z/,
    ],
    [
      'an access token',
      jwt({ sub: 'u-admin', 'cognito:groups': ['admin'], token_use: 'access', exp: inMinutes(60) }),
      /send the ID token/,
    ],
    [
      'a customer',
      jwt({ sub: 'u-alice', token_use: 'id', exp: inMinutes(60) }),
      /\(u-alice\) is not in the admin group/,
    ],
    [
      'support',
      jwt({ sub: 'u-support', 'cognito:groups': ['support'], exp: inMinutes(60) }),
      /is not in the admin group/,
    ],
  ])('a token that is %s is refused before anything runs', (_, token, message) => {
    usageError([...urls, '--token', token], message);
  });

  test('the same checks apply to BENCH_TOKEN, named as such', () => {
    usageError(urls, /^BENCH_TOKEN: the token is not a JWT/, undefined, { BENCH_TOKEN: 'x' });
  });

  test('--no-sign is gone, with a pointer to the token', () => {
    usageError([...urls, '--no-sign'], /--no-sign is gone.*--token <jwt>/);
  });
});

describe('readOutputsFile', () => {
  test('finds the stacks by name, whatever their prefix or suffix', () => {
    const renamed = {
      'Shop-Coupled-dev': OUTPUTS['ReduxBackend-Coupled'],
      'Shop-Decoupled-dev': { ApiUrl: 'https://d.execute-api.eu-west-1.amazonaws.com/' },
    };
    const stacks = readOutputsFile('o.json', files({ 'o.json': JSON.stringify(renamed) }));
    expect(stacks.coupled.eventTable).toBe('ReduxBackend-Coupled-Events');
    expect(stacks.decoupled).toEqual({
      url: 'https://d.execute-api.eu-west-1.amazonaws.com/',
      eventTable: undefined,
      projectionsTable: undefined,
    });
  });

  test("each stack's WebSocketUrl, when the outputs have it (the push sweep runs remotely)", () => {
    const withSockets = {
      'ReduxBackend-Decoupled': {
        ...OUTPUTS['ReduxBackend-Decoupled'],
        WebSocketUrl: 'wss://d/live',
      },
      'ReduxBackend-Coupled': { ...OUTPUTS['ReduxBackend-Coupled'], WebSocketUrl: 'wss://c/live' },
      'ReduxBackend-Identity': { UserPoolId: 'eu-west-1_x' },
    };
    const stacks = readOutputsFile('o.json', files({ 'o.json': JSON.stringify(withSockets) }));
    expect(stacks.decoupled.websocketUrl).toBe('wss://d/live');
    expect(stacks.coupled.websocketUrl).toBe('wss://c/live');
    expect(
      readOutputsFile('o.json', files({ 'o.json': JSON.stringify(OUTPUTS) })).coupled,
    ).not.toHaveProperty('websocketUrl');
  });
});

describe('regionFromUrl', () => {
  test.each([
    ['https://abc123.execute-api.eu-west-1.amazonaws.com/', 'eu-west-1'],
    ['https://x9y8z7.execute-api.us-gov-west-1.amazonaws.com/prod', 'us-gov-west-1'],
    ['https://abc.execute-api.cn-north-1.amazonaws.com.cn/', 'cn-north-1'],
    ['https://ABC123.EXECUTE-API.AP-SOUTHEAST-2.AMAZONAWS.COM', 'ap-southeast-2'],
  ])('%s is in %s', (url, region) => {
    expect(regionFromUrl(url)).toBe(region);
  });

  test.each(['https://api.example.com/', 'http://127.0.0.1:3001', 'not a url'])(
    '%s has no region',
    (url) => {
      expect(regionFromUrl(url)).toBeUndefined();
    },
  );
});

describe('the HTTP client', () => {
  test('the client joins paths onto an ApiUrl that ends in a slash', () => {
    const client = new ApiClient('https://abc.execute-api.eu-west-1.amazonaws.com/');
    expect(client.url('/commands').href).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/commands',
    );
  });
});

describe('the workload', () => {
  test('an order: create, three addLine, then changeQuantity; a new order after N commands', () => {
    const session = new OrderSession('run-cp-k1-c0', 5);
    const sent = Array.from({ length: 7 }, () => session.next());
    expect(sent.map((s) => s.command.type)).toEqual([
      'order/create',
      'order/addLine',
      'order/addLine',
      'order/addLine',
      'order/changeQuantity',
      'order/create',
      'order/addLine',
    ]);
    expect(sent[0]!.aggregateId).toBe('run-cp-k1-c0-o0');
    expect(sent[5]!.aggregateId).toBe('run-cp-k1-c0-o1');
    expect(commandAt(4).payload).toEqual({ lineId: 'line-1', quantity: 5 });
  });

  test('a seeded history has gapless versions and the events the commands would write', () => {
    const events = historyEvents('order-1', 5);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => e.type)).toEqual([
      'order/created',
      'order/lineAdded',
      'order/quantityChanged',
      'order/quantityChanged',
      'order/quantityChanged',
    ]);
    expect(new Set(events.map((e) => e.commandId)).size).toBe(5);
    expect(events.every((e) => e.aggregateType === 'order' && e.commandHash.length === 64)).toBe(
      true,
    );
  });
});
