import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_GZIP_BUDGET } from '../../lib/constructs/bundle-options';
import { ENV } from '../../lambdas/handlers/environment';
import { createTestTables } from '../support/dynamo';
import { command } from '../support/http-events';
import { synthesize } from './helpers';

// The one test file that really bundles (esbuild, locally, no Docker): every function once.
// Asset metadata (set by the CLI too) names each function's asset directory.
const built = synthesize({ 'aws:cdk:enable-asset-metadata': true }, { bundle: true });
const assembly = built.app.synth();

const bundles = [
  // + the push functions (connections, notifier, the $connect authorizer), the redrive and
  // rebuild, the workflows function and its redrive, and the event bus's enrichment and sample
  // consumer in each stack
  ['decoupled', built.decoupledTemplate, 3 + 3 + 2 + 2 + 2],
  ['coupled', built.coupledTemplate, 2 + 3 + 2 + 2 + 2],
] as const;

/** The $connect authorizer verifies tokens against public keys: it calls no AWS service. */
const callsNoAwsService = (logicalId: string) =>
  logicalId.startsWith('PushConnectAuthorizerFunction');

describe.each(bundles)('%s stack bundles', (_name, template, count) => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  it('has one bundled asset per function', () => {
    expect(functions).toHaveLength(count);
    for (const [, fn] of functions) expect(fn.Metadata['aws:asset:is-bundled']).toBe(true);
  });

  it('given the $connect authorizer entry, when bundled, then its bundle holds the token verifier', () => {
    const [, authorizer] = functions.find(([id]) => callsNoAwsService(id))!;
    const dir = path.join(assembly.directory, authorizer.Metadata['aws:asset:path'] as string);
    const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    // aws-jwt-verify's JWKS fetch, and the query parameter the authorizer reads.
    expect(code).toContain('.well-known/jwks.json');
    expect(code).toMatch(/queryStringParameters/);
    // It calls no AWS service: no DynamoDB client is bundled (document-client.ts is apart).
    expect(code.includes('DynamoDBClient')).toBe(false);
  });

  it.each(functions.map(([id, fn]) => [id, fn.Metadata['aws:asset:path'] as string]))(
    '%s: one minified ES module with its source map, the AWS SDK inside, within the size budget',
    (id, assetPath) => {
      const dir = path.join(assembly.directory, assetPath);
      const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
      // A minified name may contain `$` (e.g. `$0e`), which `\w` does not match.
      expect(code).toMatch(/export\{[\w$]+ as handler\};/);
      expect(code.endsWith('//# sourceMappingURL=index.mjs.map\n')).toBe(true);
      // Lean functions (issue 12): the gzipped code within budget, the SDK still bundled.
      // The redrive carries the DynamoDB Streams client too (~6 KB) and serves no request:
      // its cold start is off every user's path, so it gets 10 KB more.
      const budget = BUNDLE_GZIP_BUDGET + (id.startsWith('RedriveFunction') ? 10 * 1024 : 0);
      expect(gzipSync(code).length).toBeLessThanOrEqual(budget);
      // Bundled, not taken from the runtime: no import or require of an SDK package is left
      // (the SDK's error texts quote `[require("@aws-sdk/signature-v4-crt");]`: not a call).
      expect(
        code.match(/(?<!\[)(?:from|import\(|require\()\s*"@(?:aws-sdk|smithy)\/[^"]+"/g),
      ).toBeNull();
      // The Node credential chain is replaced by the environment's credentials (bundle-options.ts):
      // none of its file, SSO or metadata sources is left.
      expect(code).not.toMatch(/sso_start_url|credential_process|AWS_WEB_IDENTITY_TOKEN_FILE/);
      if (!callsNoAwsService(id)) {
        expect(code.includes('DynamoDBClient')).toBe(true);
        expect(code).toContain('this bundle only reads the credentials the Lambda runtime sets');
      }
      // Minified: one ~0.5 MB file; far from Lambda's 50 MB zipped / 250 MB unzipped limits.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(statSync(path.join(dir, 'index.mjs')).size).toBeLessThan(1024 * 1024);
      // The map carries mappings only, not the sources.
      const map = JSON.parse(readFileSync(path.join(dir, 'index.mjs.map'), 'utf8')) as {
        sourcesContent?: unknown;
      };
      expect(map.sourcesContent).toBeUndefined();
    },
  );
});

describe('the coupled bundle, run as Lambda runs it', () => {
  const [id, fn] = Object.entries(
    built.coupledTemplate.findResources('AWS::Lambda::Function'),
  ).find(([logicalId]) => logicalId.startsWith('CoupledFunction'))!;
  const file = path.join(assembly.directory, fn.Metadata['aws:asset:path'] as string, 'index.mjs');

  /** Imports the bundle in a fresh Node and invokes it once, credentials from the environment. */
  const invoke = async (env: Record<string, string>, event: unknown) => {
    const script = `const { handler } = await import(${JSON.stringify(file)});
      const result = await handler(JSON.parse(process.env.EVENT), { awsRequestId: 'bundle-test',
        getRemainingTimeInMillis: () => 10000 });
      process.stdout.write(JSON.stringify(result));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '', ...env, EVENT: JSON.stringify(event) } },
    );
    return JSON.parse(stdout) as { statusCode: number; body: string };
  };

  it(`${id}: answers a command on DynamoDB Local with the role credentials from the environment`, async () => {
    const tables = await createTestTables();
    try {
      const { [ENV.dynamoDbEndpoint]: endpoint, ...names } = tables.env;
      const env = {
        ...names,
        // What the Lambda runtime sets; the endpoint by the SDK's own variable, so the
        // function's code takes its AWS path (no DYNAMODB_ENDPOINT, no local credentials).
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
        AWS_ENDPOINT_URL_DYNAMODB: endpoint!,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      };
      const created = await invoke(
        env,
        command({
          type: 'order/create',
          aggregateId: 'bundle-1',
          payload: { customerId: 'c-1', currency: 'EUR' },
        }),
      );
      expect(created.statusCode).toBe(200);
      expect(JSON.parse(created.body)).toMatchObject({ version: 1, order: { id: 'bundle-1' } });

      // Without them, the function fails with our reader's message rather than searching files.
      const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...bare } = env;
      const refused = await invoke(
        bare,
        command({
          type: 'order/create',
          aggregateId: 'bundle-2',
          payload: { customerId: 'c-1', currency: 'EUR' },
        }),
      );
      expect(refused.statusCode).toBe(500);
    } finally {
      await tables.drop();
    }
  });
});

describe('the workflows bundle, run as Lambda runs it', () => {
  const [id, fn] = Object.entries(
    built.decoupledTemplate.findResources('AWS::Lambda::Function'),
  ).find(([logicalId]) => logicalId.startsWith('WorkflowsFunction'))!;
  const file = path.join(assembly.directory, fn.Metadata['aws:asset:path'] as string, 'index.mjs');

  /** Imports the bundle in a fresh Node (its cold start) and invokes it once. */
  const invoke = async (env: Record<string, string>, event: unknown) => {
    const script = `const { handler } = await import(${JSON.stringify(file)});
      const result = await handler(JSON.parse(process.env.EVENT));
      process.stdout.write(JSON.stringify(result));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '', ...env, EVENT: JSON.stringify(event) } },
    );
    return JSON.parse(stdout) as unknown;
  };

  /** What the stack sets (names only: an empty batch touches no table and no schedule). */
  const env = {
    [ENV.eventTable]: 'events',
    [ENV.projectionsTable]: 'projections',
    [ENV.snapshotsTable]: 'snapshots',
    [ENV.commandsTable]: 'commands',
    [ENV.timerScheduleGroup]: 'timers',
    [ENV.timerTargetArn]: 'arn:aws:lambda:eu-west-1:123456789012:function:stack-workflows',
    [ENV.timerRoleArn]: 'arn:aws:iam::123456789012:role/scheduler',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };

  it(`${id}: given the stack's environment, when a stream batch comes, then it answers with batchItemFailures`, async () => {
    expect(await invoke(env, { Records: [] })).toEqual({ batchItemFailures: [] });
  });

  it(`${id}: given no timer schedule group, when it starts, then it fails loudly naming the variable`, async () => {
    const { [ENV.timerScheduleGroup]: _group, ...withoutGroup } = env;
    await expect(invoke(withoutGroup, { Records: [] })).rejects.toThrow(
      new RegExp(`${ENV.timerScheduleGroup} is not set`),
    );
  });
});
