import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/handlers/environment';
import { type AppStack, grants, logicalIdOf, permissionsOf, synthesize } from './helpers';

const byDefault = synthesize();
const traced = synthesize({ tracing: 'true' });

const { decoupled, coupled, decoupledTemplate, coupledTemplate } = byDefault;

interface Expected {
  readonly name: string;
  readonly template: Template;
  readonly stack: AppStack;
  readonly prefix: string;
  readonly env: string[];
}

/** What a function that posts the rows it writes is given (lib/constructs/push.ts, `writers`). */
const PUSH_WRITER_ENV = [ENV.subscriptionsTable, ENV.websocketManagementEndpoint];

const FUNCTIONS: Expected[] = [
  {
    name: 'command',
    template: decoupledTemplate,
    stack: decoupled,
    prefix: 'CommandFunctionHandler',
    env: [ENV.eventTable, ENV.snapshotsTable, ENV.commandsTable, ENV.snapshotEvery],
  },
  {
    name: 'query',
    template: decoupledTemplate,
    stack: decoupled,
    prefix: 'QueryFunctionHandler',
    env: [ENV.eventTable, ENV.projectionsTable],
  },
  {
    name: 'projector',
    template: decoupledTemplate,
    stack: decoupled,
    prefix: 'ProjectorFunctionHandler',
    // It posts the pushed views' rows it writes (docs/decisions/push-from-the-writer.md).
    env: [ENV.eventTable, ENV.projectionsTable, ...PUSH_WRITER_ENV],
  },
  {
    name: 'coupled',
    template: coupledTemplate,
    stack: coupled,
    prefix: 'CoupledFunctionHandler',
    env: [
      ENV.eventTable,
      ENV.projectionsTable,
      ENV.snapshotsTable,
      ENV.commandsTable,
      ENV.snapshotEvery,
      ...PUSH_WRITER_ENV,
    ],
  },
  {
    name: 'coupled projector',
    template: coupledTemplate,
    stack: coupled,
    prefix: 'ProjectorFunctionHandler',
    // It posts the pushed views' rows it writes (docs/decisions/push-from-the-writer.md).
    env: [ENV.eventTable, ENV.projectionsTable, ...PUSH_WRITER_ENV],
  },
];

const functionResource = (template: Template, prefix: string) => {
  const entry = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
    id.startsWith(prefix),
  );
  if (!entry) throw new Error(`No function ${prefix}*`);
  return entry[1];
};

// Each stack also has the three push functions (connections, notifier, the $connect
// authorizer): see push.test.ts, the redrive (redrive.test.ts) and rebuild
// (rebuild.test.ts) functions, the workflows function and its redrive (workflows.test.ts) and
// the event bus's enrichment and sample consumer.
it('deploys three functions in the decoupled stack and two in the coupled stack, plus push, redrive, rebuild, workflows and the event bus', () => {
  decoupledTemplate.resourceCountIs('AWS::Lambda::Function', 3 + 3 + 2 + 2 + 2);
  coupledTemplate.resourceCountIs('AWS::Lambda::Function', 2 + 3 + 2 + 2 + 2);
});

describe.each(FUNCTIONS)('$name function', ({ template, stack, prefix, env }) => {
  const fn = functionResource(template, prefix);
  const eventTable = `{"Ref":"${logicalIdOf(stack.eventTable.table, stack)}"}`;
  const projections = `{"Ref":"${logicalIdOf(stack.projectionsTable.table, stack)}"}`;

  it('runs Node.js 22 on arm64 with 1024 MB and a 10 s timeout, no X-Ray by default', () => {
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 10,
      Handler: 'index.handler',
    });
    expect(fn.Properties.TracingConfig).toBeUndefined();
  });

  it('gets exactly the table names it uses (ENV constants), and source maps', () => {
    const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(['NODE_OPTIONS', ...env].sort());
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
    if (env.includes(ENV.eventTable)) {
      expect(JSON.stringify(variables[ENV.eventTable])).toBe(eventTable);
    }
    if (env.includes(ENV.projectionsTable)) {
      expect(JSON.stringify(variables[ENV.projectionsTable])).toBe(projections);
    }
    expect(variables[ENV.dynamoDbEndpoint]).toBeUndefined();
  });

  it('logs to its own log group, kept one month', () => {
    const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = template.findResources('AWS::Logs::LogGroup')[logGroupId];
    expect(logGroup?.Properties).toEqual({ RetentionInDays: 30 });
    expect(logGroup?.DeletionPolicy).toBe('Retain');
  });

  it('has its own role, assumed by Lambda, with no managed policy', () => {
    const { roleId, managedPolicyArns } = permissionsOf(template, prefix);
    expect(managedPolicyArns).toEqual([]);
    template.hasResource('AWS::IAM::Role', {
      Properties: Match.objectLike({
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
            },
          ],
          Version: '2012-10-17',
        },
      }),
    });
    expect(template.findResources('AWS::IAM::Role')[roleId]).toBeDefined();
  });
});

describe('IAM: exact permissions per function', () => {
  const ids = (stack: AppStack) => ({
    events: `<${logicalIdOf(stack.eventTable.table, stack)}.Arn>`,
    stream: `<${logicalIdOf(stack.eventTable.table, stack)}.StreamArn>`,
    snapshots: `<${logicalIdOf(stack.commandTables.snapshots, stack)}.Arn>`,
    commands: `<${logicalIdOf(stack.commandTables.commands, stack)}.Arn>`,
    logs: (prefix: string) => {
      const fn = functionResource(
        stack === decoupled ? decoupledTemplate : coupledTemplate,
        prefix,
      );
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      return `<${logGroupId}.Arn>`;
    },
  });
  const projections = `<${logicalIdOf(decoupled.projectionsTable.table, decoupled)}.Arn>`;
  const coupledProjections = `<${logicalIdOf(coupled.projectionsTable.table, coupled)}.Arn>`;
  const logWrites = (resource: string) =>
    grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [resource]);
  /** A push writer's: the subscribers (and gone connections), and posts to this stage only. */
  const pushWrites = (stack: AppStack) => {
    const table = `<${logicalIdOf(stack.push.subscriptionsTable, stack)}.Arn>`;
    const api = logicalIdOf(stack.push.webSocketApi, stack);
    return [
      ...grants(['dynamodb:DeleteItem', 'dynamodb:Query'], [table]),
      ...grants(['dynamodb:Query'], [`${table}/index/byConnection`]),
      `execute-api:ManageConnections arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/live/POST/@connections/*`,
    ];
  };

  it('command: Query + PutItem + ConditionCheckItem on events, GetItem + PutItem on snapshots and markers', () => {
    const r = ids(decoupled);
    expect(permissionsOf(decoupledTemplate, 'CommandFunctionHandler').permissions).toEqual(
      [
        ...grants(
          ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          [r.events],
        ),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [r.snapshots, r.commands]),
        ...logWrites(r.logs('CommandFunctionHandler')),
      ].sort(),
    );
  });

  it('query: Query on the event table, GetItem + BatchGetItem on rows, Query on the list slots', () => {
    const r = ids(decoupled);
    expect(permissionsOf(decoupledTemplate, 'QueryFunctionHandler').permissions).toEqual(
      [
        // The list slots of the projections table serve the collections' lists.
        ...grants(['dynamodb:Query'], [r.events, `${projections}/index/*`]),
        // A sharded row and a keys-only list's page are read in one BatchGetItem.
        ...grants(['dynamodb:BatchGetItem', 'dynamodb:GetItem'], [projections]),
        ...logWrites(r.logs('QueryFunctionHandler')),
      ].sort(),
    );
  });

  it('projector: reads the stream, Query on events, GetItem/PutItem on the projections table, sends to the DLQ', () => {
    const r = ids(decoupled);
    const dlq = `<${logicalIdOf(decoupled.projection.deadLetterQueue, decoupled)}.Arn>`;
    expect(permissionsOf(decoupledTemplate, 'ProjectorFunctionHandler').permissions).toEqual(
      [
        ...grants(
          [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ],
          [r.stream],
        ),
        ...grants(['dynamodb:Query'], [r.events]),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [projections]),
        ...grants(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], [dlq]),
        ...logWrites(r.logs('ProjectorFunctionHandler')),
        ...pushWrites(decoupled),
      ].sort(),
    );
  });

  it('coupled: Query + PutItem + ConditionCheckItem on events, GetItem + PutItem on snapshots and markers, GetItem + BatchGetItem + UpdateItem on rows, Query on the list slots', () => {
    const r = ids(coupled);
    expect(permissionsOf(coupledTemplate, 'CoupledFunctionHandler').permissions).toEqual(
      [
        ...grants(
          ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          [r.events],
        ),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [r.snapshots, r.commands]),
        ...grants(['dynamodb:Query'], [`${coupledProjections}/index/*`]),
        // The view is an Update inside the events' transaction (it bumps the row's revision).
        ...grants(
          ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          [coupledProjections],
        ),
        ...logWrites(r.logs('CoupledFunctionHandler')),
        ...pushWrites(coupled),
      ].sort(),
    );
  });

  it('coupled projector: the stream, Query on events, GetItem/PutItem on the projections table only, the DLQ', () => {
    const r = ids(coupled);
    const dlq = `<${logicalIdOf(coupled.projection.deadLetterQueue, coupled)}.Arn>`;
    expect(permissionsOf(coupledTemplate, 'ProjectorFunctionHandler').permissions).toEqual(
      [
        ...grants(
          [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ],
          [r.stream],
        ),
        ...grants(['dynamodb:Query'], [r.events]),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [coupledProjections]),
        ...grants(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], [dlq]),
        ...logWrites(r.logs('ProjectorFunctionHandler')),
        ...pushWrites(coupled),
      ].sort(),
    );
  });

  it.each(FUNCTIONS)(
    '$name: no Scan, no wildcard action, no `*` resource, DynamoDB only on our tables',
    ({ template, stack, prefix }) => {
      const { permissions } = permissionsOf(template, prefix);
      const ours = [
        stack.eventTable.table,
        stack.projectionsTable.table,
        stack.commandTables.snapshots,
        stack.commandTables.commands,
        stack.push.subscriptionsTable,
      ].map((t) => `<${logicalIdOf(t, stack)}.`);
      for (const permission of permissions) {
        const [action = '', resource = ''] = permission.split(' ');
        expect(action).not.toBe('dynamodb:Scan');
        expect(action).not.toContain('*');
        expect(resource).not.toBe('*');
        if (action.startsWith('dynamodb:')) {
          expect(ours.some((prefix) => resource.startsWith(prefix))).toBe(true);
        }
      }
    },
  );
});

describe('-c tracing=true', () => {
  it.each([
    ['decoupled', traced.decoupledTemplate, 3 + 3 + 2 + 2 + 2],
    ['coupled', traced.coupledTemplate, 2 + 3 + 2 + 2 + 2],
  ] as const)('%s: every function traces actively', (_name, template, count) => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(count);
    for (const fn of functions) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('adds only the X-Ray write actions, the one grant on `*`', () => {
    for (const [template, prefix] of [
      [traced.decoupledTemplate, 'CommandFunctionHandler'],
      [traced.decoupledTemplate, 'QueryFunctionHandler'],
      [traced.decoupledTemplate, 'ProjectorFunctionHandler'],
      [traced.coupledTemplate, 'CoupledFunctionHandler'],
    ] as const) {
      const onStar = permissionsOf(template, prefix).permissions.filter((p) => p.endsWith(' *'));
      expect(onStar).toEqual(['xray:PutTelemetryRecords *', 'xray:PutTraceSegments *']);
    }
  });
});
