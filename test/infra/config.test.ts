import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/handlers/environment';
import { DEFAULT_CORS_ORIGINS } from '../../lambdas/handlers/cors';
import { ConfigError, CONTEXT, DEFAULT_THROTTLE, readOptions } from '../../lib/config';
import { synthesize } from './helpers';

const optionsOf = (context: Record<string, unknown>) => readOptions(new App({ context }));

it('defaults: retained, untraced, 100/200 throttling', () => {
  expect(optionsOf({})).toEqual({
    disposable: false,
    tracing: false,
    throttle: DEFAULT_THROTTLE,
    corsOrigins: DEFAULT_CORS_ORIGINS,
    snapshotEvery: 100,
  });
  expect(DEFAULT_CORS_ORIGINS).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
  expect(DEFAULT_THROTTLE).toEqual({ rateLimit: 100, burstLimit: 200 });
});

it('reads CLI strings and real values alike', () => {
  expect(
    optionsOf({
      disposable: 'true',
      tracing: true,
      throttleRate: '25.5',
      throttleBurst: 50,
    }),
  ).toEqual({
    disposable: true,
    tracing: true,
    throttle: { rateLimit: 25.5, burstLimit: 50 },
    corsOrigins: DEFAULT_CORS_ORIGINS,
    snapshotEvery: 100,
  });
});

it.each([
  [{ disposable: 'yes' }, /^Invalid -c disposable=yes: expected true or false$/],
  [{ tracing: 1 }, /^Invalid -c tracing=1: expected true or false$/],
  // Gone with the JWT authorizers: every route needs a token, and a handler a principal.
  [{ openApi: 'true' }, /^Unknown -c flag openApi: accepted flags are disposable, tracing,/],
  [{ throttleRate: '0' }, /^Invalid -c throttleRate=0: expected a positive number/],
  [{ throttleBurst: 'lots' }, /^Invalid -c throttleBurst=lots: expected a positive integer$/],
  [{ throttleBurst: '2.5' }, /^Invalid -c throttleBurst=2.5: expected a positive integer$/],
  [{ throttleRate: true }, /^Invalid -c throttleRate=true: expected a positive number/],
  [{ corsOrigins: 'https://app.example.com/' }, /corsOrigins=.*: ".*" is not an origin/],
  [{ corsOrigins: 'app.example.com' }, /corsOrigins=.*: ".*" is not an origin/],
  [{ corsOrigins: '*,https://a.example.com' }, /'\*' cannot be combined/],
  [{ corsOrigins: ' , ' }, /corsOrigins= , : must name at least one origin/],
  [{ corsOrigins: 42 }, /^Invalid -c corsOrigins=42: expected a comma-separated list of origins/],
  [{ snapshotEvery: '0' }, /^Invalid -c snapshotEvery=0: expected a positive integer$/],
  [{ snapshotEvery: '12.5' }, /^Invalid -c snapshotEvery=12.5: expected a positive integer$/],
  [{ disposible: 'true' }, /^Unknown -c flag disposible: accepted flags are disposable, tracing,/],
])('rejects %j instead of guessing, naming the flag and what it accepts', (context, message) => {
  expect(() => optionsOf(context)).toThrow(ConfigError);
  expect(() => optionsOf(context)).toThrow(message);
});

it("passes CDK's own context keys (feature flags, aws:cdk:*, lookups, acknowledged notices)", () => {
  expect(() =>
    optionsOf({
      '@aws-cdk/core:checkSecretUsage': true,
      'aws:cdk:bundling-stacks': [],
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
      'acknowledged-issue-numbers': [12345],
    }),
  ).not.toThrow();
});

/** `cdk synth -c ...` as the CLI runs the app (cdk.json: `npx tsx bin/app.ts`). */
const runApp = (context: Record<string, unknown>) => {
  const root = path.resolve(__dirname, '..', '..');
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: root,
    encoding: 'utf8',
    // No bundling, should the app build its stacks after all (as before the fix: exit 0).
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
    timeout: 60_000,
  });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
};

it.each([
  [{ disposable: 'yes' }, 'Error: Invalid -c disposable=yes: expected true or false'],
  [
    { throtleRate: '5', 'aws:cdk:version-reporting': true },
    `Error: Unknown -c flag throtleRate: accepted flags are ${Object.values(CONTEXT).join(', ')}`,
  ],
])(
  'the CDK app given %j prints one line naming the flag and exits 1, no stack trace',
  (context, line) => {
    const { status, stderr, stdout } = runApp(context);
    expect(stderr).toBe(`${line}\n`);
    expect(stdout).toBe('');
    expect(status).toBe(1);
  },
);

it('reads -c corsOrigins as a comma-separated list of origins, or * alone', () => {
  expect(
    optionsOf({ corsOrigins: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
  ).toEqual(['https://app.example.com', 'http://localhost:5173']);
  expect(optionsOf({ corsOrigins: '*' }).corsOrigins).toEqual(['*']);
});

it('-c servedProjectionVersions is checked against the deployment at synthesis', () => {
  expect(optionsOf({ servedProjectionVersions: 'customer-summary=1' })).toMatchObject({
    servedProjectionVersions: 'customer-summary=1',
  });
  expect(() => optionsOf({ servedProjectionVersions: 'customer-summary=7' })).toThrow(
    /customer-summary v7 is not in this deployment/,
  );
});

it('-c servedProjectionVersions reaches every function that serves or pushes read models', () => {
  const built = synthesize({ servedProjectionVersions: 'customer-summary=1' });
  const serving = (template: Template) =>
    Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(
        ([, fn]) =>
          (fn.Properties.Environment?.Variables as Record<string, unknown> | undefined)?.[
            ENV.servedProjectionVersions
          ] === 'customer-summary=1',
      )
      .map(([id]) => id.replace(/Handler.*$/, ''));
  // Before: the coupled function, which serves the same route, never got the setting.
  // The notifier pushes a collection's view at the version GET serves; the connections
  // function acknowledges a subscription with that row's version; the projector (and the coupled
  // function) post the rows they write (docs/decisions/push-from-the-writer.md).
  expect(serving(built.decoupledTemplate).sort()).toEqual([
    'ProjectorFunction',
    'PushConnectionsFunction',
    'PushNotifierFunction',
    'QueryFunction',
  ]);
  expect(serving(built.coupledTemplate).sort()).toEqual([
    'CoupledFunction',
    'ProjectorFunction',
    'PushConnectionsFunction',
    'PushNotifierFunction',
  ]);
});
