/** The benchmark's command line, the region of an API URL, and SigV4 signing. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_OUT_DIR,
  parseArgs,
  PUBLISH_DIR,
  readOutputsFile,
  regionFromUrl,
  UsageError,
} from '../../bench/args';
import { ApiClient, createSigV4Signer } from '../../bench/http';
import { commandAt, historyEvents, OrderSession } from '../../bench/orders';
import { DEFAULT_SETTINGS, historyPlan } from '../../bench/settings';

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

const usageError = (argv: string[], message: RegExp, readFile?: (path: string) => string) => {
  let thrown: unknown;
  try {
    parseArgs(argv, readFile);
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
    const args = parseArgs(
      ['--outputs', 'out.json'],
      files({ 'out.json': JSON.stringify(OUTPUTS) }),
    );
    expect(args).toEqual({
      help: false,
      quick: false,
      out: DEFAULT_OUT_DIR,
      target: {
        mode: 'remote',
        sign: true,
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
    expect(parseArgs(['--decoupled-url', decoupled, '--coupled-url', coupled])).toMatchObject({
      target: { mode: 'remote', region: 'us-east-2', sign: true, decoupled: { url: decoupled } },
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

  test('a custom domain needs --region to sign, unless --no-sign', () => {
    const urls = [
      '--decoupled-url',
      'https://api.example.com/d',
      '--coupled-url',
      'https://api.example.com/c',
    ];
    usageError(urls, /give --region/);
    expect(parseArgs([...urls, '--region', 'eu-central-1'])).toMatchObject({
      target: { region: 'eu-central-1', sign: true },
    });
    expect(parseArgs([...urls, '--no-sign'])).toMatchObject({ target: { sign: false } });
  });

  test('--region and --no-sign are for remote mode only', () => {
    usageError(['--no-sign'], /only apply to remote mode/);
    usageError(['--region', 'eu-west-1'], /only apply to remote mode/);
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

describe('SigV4 signing', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const clock = () => new Date('2024-05-06T07:08:09Z');

  test('a signed POST carries an Authorization header with the execute-api scope', async () => {
    const sign = createSigV4Signer({ region: 'eu-west-1', credentials, clock });
    const headers = await sign({
      method: 'POST',
      url: new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/commands'),
      headers: { 'content-type': 'application/json' },
      body: '{"type":"order/create"}',
    });
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240506\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers.authorization).toContain('content-type');
    expect(headers['x-amz-date']).toBe('20240506T070809Z');
    expect(headers['content-type']).toBe('application/json');
    // fetch derives Host from the URL; the signed value is the same.
    expect(headers.host).toBeUndefined();
  });

  test('the query string is part of the signature, and a session token is sent', async () => {
    const sign = createSigV4Signer({
      region: 'us-east-1',
      credentials: async () => ({ ...credentials, sessionToken: 'token-1' }),
      clock,
    });
    const request = (query: string) =>
      sign({
        method: 'GET',
        url: new URL(`https://abc.execute-api.us-east-1.amazonaws.com/orders/o-1${query}`),
        headers: {},
      });
    const a = await request('?minVersion=1');
    const b = await request('?minVersion=2');
    expect(a.authorization).toContain('/us-east-1/execute-api/aws4_request');
    expect(a['x-amz-security-token']).toBe('token-1');
    expect(a.authorization).not.toBe(b.authorization);
  });

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
