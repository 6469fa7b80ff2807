import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { synthesize } from './helpers';

const VARIANTS = {
  default: synthesize(),
  'every flag': synthesize({ disposable: 'true', tracing: 'true', corsOrigins: '*' }),
};

const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];

/** The rule ids acknowledged anywhere in a stack. */
const acknowledgedIn = (scope: IConstruct) =>
  [
    ...new Set(
      scope.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.keys(m.data as object))
        .map((id) =>
          id
            .replace(/^annotation::/i, '')
            .replace(/\[Resource::<\w+\.Arn>/, '[Resource::<Table.Arn>')
            .replace(/<PushWebSocketApi\w+>/, '<WebSocketApi>')
            // The workflows timer group's name is the stack's (lib/constructs/workflows.ts).
            .replace(/:schedule\/[\w.-]+\/\*\]$/, ':schedule/<TimerGroup>/*]'),
        ),
    ),
  ].sort();

describe.each(Object.entries(VARIANTS))('cdk-nag, %s', (_variant, built) => {
  it.each([
    ['decoupled', built.decoupled],
    ['coupled', built.coupled],
    ['identity', built.identity],
  ] as const)('%s: no unacknowledged AwsSolutions or Serverless finding', (_name, stack) => {
    for (const pack of packs()) {
      const { violations } = pack.validateScope(stack);
      expect(
        violations.map((v) => `${v.ruleName} at ${v.violatingResources[0]?.constructPath}`),
      ).toEqual([]);
    }
  });

  it.each([
    ['decoupled', built.decoupled],
    ['coupled', built.coupled],
    ['identity', built.identity],
  ] as const)('%s: no CDK error or warning annotation', (_name, stack) => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('synthesizes with both packs registered: an empty validation report', () => {
    const assembly = built.app.synth();
    const report = JSON.parse(
      readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  });
});

it('acknowledges only these rules, each with a reason next to its construct', () => {
  const common = [
    'AwsSolutions-L1',
    'Serverless-LambdaDLQ',
    'Serverless-LambdaLatestVersion',
    // Push (lib/constructs/push.ts): only $connect can take an authorizer (the token
    // authorizer function; the HTTP routes' JWT authorizer needs no acknowledgement); PostToConnection on
    // this stage's connections; pokes are not worth a failure destination.
    'AwsSolutions-APIG4',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketApi>/live/POST/@connections/*]',
    'Serverless-LambdaEventSourceMappingDestination',
  ];
  // Both stacks have a projector pipeline (the DLQ's two) and the repair tools: the redrive
  // (Serverless-LambdaEventSourceMappingDestination, in common) and the rebuild.
  const rebuild = (tracing: boolean) => [
    // Rebuild (lib/constructs/rebuild.ts): invoke of its one function (ARN:*), the Distributed
    // Map's child executions of this state machine, log delivery; X-Ray opt-in.
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::<Table.Arn>:*]',
    ...[':*', '/*:*'].map(
      (tail) =>
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"RebuildStateMachineA3472951"}]}]}${tail}]`,
    ),
    ...(tracing ? [] : ['AwsSolutions-SF2', 'Serverless-StepFunctionStateMachineXray']),
  ];
  const pipeline = ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy'];
  const indexes = 'AwsSolutions-IAM5[Resource::<Table.Arn>/index/*]';
  // Workflows (lib/constructs/workflows.ts): CreateSchedule in the stack's timer group only.
  const timers =
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/<TimerGroup>/*]';
  for (const stack of ['decoupled', 'coupled'] as const) {
    expect(acknowledgedIn(VARIANTS.default[stack])).toEqual(
      [
        ...new Set([
          ...common,
          indexes,
          timers,
          ...pipeline,
          'Serverless-LambdaTracing',
          ...rebuild(false),
        ]),
      ].sort(),
    );
    expect(acknowledgedIn(VARIANTS['every flag'][stack])).toEqual(
      [...new Set([...common, indexes, timers, ...pipeline, ...rebuild(true)])].sort(),
    );
  }
  // The user pool (lib/constructs/identity.ts): MFA optional for scripted sign-in; Essentials,
  // not Plus (no self sign-up to protect).
  for (const variant of Object.values(VARIANTS)) {
    expect(acknowledgedIn(variant.identity)).toEqual(['AwsSolutions-COG2', 'AwsSolutions-COG8']);
  }
});

it('the packs do report findings (a bare queue is flagged)', () => {
  const stack = new Stack(new App(), 'Probe');
  new sqs.Queue(stack, 'Queue');
  const rules = packs().flatMap((pack) =>
    pack.validateScope(stack).violations.map((v) => v.ruleName),
  );
  expect(rules).toEqual(
    expect.arrayContaining([
      'AwsSolutions-SQS3',
      'AwsSolutions-SQS4',
      'Serverless-SQSRedrivePolicy',
    ]),
  );
});

it('an unacknowledged finding fails synthesis', () => {
  const app = new App();
  new sqs.Queue(new Stack(app, 'Probe'), 'Queue');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
});
