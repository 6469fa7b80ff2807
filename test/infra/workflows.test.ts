import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/handlers/environment';
import { UNREPAIRABLE } from '../../lambdas/handlers/redrive';
import {
  UNREPAIRABLE_METRIC_NAME,
  UNREPAIRABLE_PROCESS_METRIC_NAME,
} from '../../lib/constructs/redrive';
import { workflowsFunctionNameOf } from '../../lib/constructs/workflows';
import { OUTPUT } from '../../lib/stacks/outputs';
import { type AppStack, grants, logicalIdOf, permissionsOf, synthesize } from './helpers';

const { decoupled, coupled, decoupledTemplate, coupledTemplate } = synthesize();

const STACKS = [
  { name: 'decoupled', stack: decoupled as AppStack, template: decoupledTemplate, coupled: false },
  { name: 'coupled', stack: coupled as AppStack, template: coupledTemplate, coupled: true },
] as const;

const FUNCTION_PREFIX = 'WorkflowsFunctionHandler';

/** The stack's workflows construct and the logical ids of its pieces. */
const idsOf = (stack: AppStack) => {
  const { workflows } = stack;
  return {
    function: logicalIdOf(workflows.function.function, stack),
    deadLetterQueue: logicalIdOf(workflows.deadLetterQueue, stack),
    timerDeadLetterQueue: logicalIdOf(workflows.timerDeadLetterQueue, stack),
    scheduleGroup: logicalIdOf(workflows.scheduleGroup, stack),
    schedulerRole: logicalIdOf(workflows.schedulerRole, stack),
    eventTable: logicalIdOf(stack.eventTable.table, stack),
    projectionsTable: logicalIdOf(stack.projectionsTable.table, stack),
    snapshots: logicalIdOf(stack.commandTables.snapshots, stack),
    commands: logicalIdOf(stack.commandTables.commands, stack),
  };
};

const resourceOf = (template: Template, type: string, id: string) => {
  const resource = template.findResources(type)[id];
  if (!resource) throw new Error(`No ${type} ${id}`);
  return resource;
};

describe.each(STACKS)('$name stack: the workflows function', ({ stack, template, coupled }) => {
  const ids = idsOf(stack);
  const fn = resourceOf(template, 'AWS::Lambda::Function', ids.function);
  const variables = fn.Properties.Environment.Variables as Record<string, unknown>;

  it('given the stack name, when synthesized, then the function is named after the stack, with a 30 s timeout', () => {
    expect(fn.Properties).toMatchObject({
      FunctionName: `${stack.stackName}-workflows`,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 30,
    });
    expect(stack.workflows.functionName).toBe(`${stack.stackName}-workflows`);
  });

  it('given its event stream, when mapped, then it has the projector settings and its own on-failure DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.eventTable, 'StreamArn'] },
      FunctionName: { Ref: ids.function },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] } },
      },
    });
    // Not the projector's queue: its redrive re-projects, which would not run a process.
    expect(ids.deadLetterQueue).not.toBe(logicalIdOf(stack.projection.deadLetterQueue, stack));
  });

  it('given a timer it fails on, when Lambda gives up, then the invocation goes to the timer DLQ', () => {
    expect(fn.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [ids.timerDeadLetterQueue, 'Arn'] },
    });
  });

  it.each([
    ['stream', 'deadLetterQueue'],
    ['timer', 'timerDeadLetterQueue'],
  ] as const)(
    'the %s dead-letter queue is encrypted, TLS only, kept 14 days, retried by the redrive every 15 minutes',
    (_which, key) => {
      const queueId = ids[key];
      expect(resourceOf(template, 'AWS::SQS::Queue', queueId).Properties).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
        VisibilityTimeout: 15 * 60,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    },
  );

  it('given the stream falls behind, when IteratorAge stays above 60 s for 3 minutes, then an alarm fires', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.function } }],
      Statistic: 'Maximum',
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it.each([
    ['stream', 'deadLetterQueue'],
    ['timer', 'timerDeadLetterQueue'],
  ] as const)(
    'given a message in the %s dead-letter queue, visible or held by the redrive, then an alarm fires on the first one',
    (_which, key) => {
      const inQueue = (name: string) =>
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: name,
              Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids[key], 'QueueName'] } }],
            },
            Stat: 'Maximum',
          }),
        });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'visible + inFlight' }),
          inQueue('ApproximateNumberOfMessagesVisible'),
          inQueue('ApproximateNumberOfMessagesNotVisible'),
        ]),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
    },
  );

  it('given a timer Scheduler could not deliver, then the dropped-timers alarm fires', () => {
    const groupName = resourceOf(template, 'AWS::Scheduler::ScheduleGroup', ids.scheduleGroup)
      .Properties.Name as string;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Scheduler',
      MetricName: 'InvocationDroppedCount',
      Dimensions: [{ Name: 'ScheduleGroup', Value: groupName }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('has a schedule group of its own, deleted with the stack', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    const group = resourceOf(template, 'AWS::Scheduler::ScheduleGroup', ids.scheduleGroup);
    expect(group.DeletionPolicy).toBe('Delete');
    expect(group.Properties.Name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
  });

  it('given the environment, then it names exactly its tables, its timers and (coupled only) views with events', () => {
    const groupName = resourceOf(template, 'AWS::Scheduler::ScheduleGroup', ids.scheduleGroup)
      .Properties.Name as string;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'NODE_OPTIONS',
        ENV.eventTable,
        ENV.projectionsTable,
        ENV.snapshotsTable,
        ENV.commandsTable,
        ENV.snapshotEvery,
        ENV.timerScheduleGroup,
        ENV.timerTargetArn,
        ENV.timerRoleArn,
        ...(coupled ? [ENV.writeViewsWithEvents] : []),
      ].sort(),
    );
    expect(variables[ENV.eventTable]).toEqual({ Ref: ids.eventTable });
    expect(variables[ENV.projectionsTable]).toEqual({ Ref: ids.projectionsTable });
    expect(variables[ENV.snapshotsTable]).toEqual({ Ref: ids.snapshots });
    expect(variables[ENV.commandsTable]).toEqual({ Ref: ids.commands });
    expect(variables[ENV.timerScheduleGroup]).toBe(groupName);
    expect(variables[ENV.timerRoleArn]).toEqual({ 'Fn::GetAtt': [ids.schedulerRole, 'Arn'] });
    expect(variables[ENV.writeViewsWithEvents]).toBe(coupled ? 'true' : undefined);
  });

  it('given the timer target, then it is this function built from its name, not a reference to itself', () => {
    expect(variables[ENV.timerTargetArn]).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':lambda:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:function:${stack.stackName}-workflows`,
        ],
      ],
    });
    // A reference to the function in its own environment would be a circular dependency.
    expect(JSON.stringify(fn.Properties)).not.toContain(`"${ids.function}"`);
  });

  it('given its role, then it may append events, run its commands, keep its records, create schedules in its group and pass the scheduler role: nothing else', () => {
    const { permissions, managedPolicyArns } = permissionsOf(template, FUNCTION_PREFIX);
    expect(managedPolicyArns).toEqual([]);
    const arn = (id: string) => `<${id}.Arn>`;
    const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const groupName = resourceOf(template, 'AWS::Scheduler::ScheduleGroup', ids.scheduleGroup)
      .Properties.Name as string;
    expect(permissions).toEqual(
      [
        ...grants(
          ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          [arn(ids.eventTable)],
        ),
        ...grants(
          ['dynamodb:GetItem', 'dynamodb:PutItem'],
          [arn(ids.snapshots), arn(ids.commands)],
        ),
        // Its records; on the coupled stack, a command's view is an Update in its transaction.
        ...grants(
          ['dynamodb:GetItem', 'dynamodb:PutItem', ...(coupled ? ['dynamodb:UpdateItem'] : [])],
          [arn(ids.projectionsTable)],
        ),
        ...grants(
          [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ],
          [`<${ids.eventTable}.StreamArn>`],
        ),
        ...grants(
          ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          [arn(ids.deadLetterQueue)],
        ),
        ...grants(['sqs:SendMessage'], [arn(ids.timerDeadLetterQueue)]),
        ...grants(
          ['scheduler:CreateSchedule'],
          [`arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*`],
        ),
        ...grants(['iam:PassRole'], [arn(ids.schedulerRole)]),
        ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [arn(logGroupId)]),
      ].sort(),
    );
  });

  it('given the PassRole grant, then it only passes the role to EventBridge Scheduler', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: Match.arrayWith([{ Ref: permissionsOf(template, FUNCTION_PREFIX).roleId }]),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'iam:PassRole',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [ids.schedulerRole, 'Arn'] },
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          },
        ]),
      },
    });
  });

  it("given the scheduler role, then only this group's schedules in this account assume it, to invoke this function only", () => {
    const role = resourceOf(template, 'AWS::IAM::Role', ids.schedulerRole);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': { 'Fn::GetAtt': [ids.scheduleGroup, 'Arn'] },
          },
        },
      },
    ]);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === ids.schedulerRole),
    );
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [ids.function, 'Arn'] },
      },
    ]);
  });

  it('outputs the function name, both dead-letter queues and their redrive function', () => {
    const outputs = template.findOutputs('*');
    expect(outputs[OUTPUT.workflowsRedriveFunctionName]?.Value).toEqual({
      Ref: logicalIdOf(stack.workflows.redrive.function.function, stack),
    });
    expect(outputs[OUTPUT.workflowsFunctionName]?.Value).toBe(`${stack.stackName}-workflows`);
    expect(outputs[OUTPUT.workflowsDeadLetterQueueUrl]?.Value).toEqual({
      Ref: ids.deadLetterQueue,
    });
    expect(outputs[OUTPUT.workflowsTimerDeadLetterQueueUrl]?.Value).toEqual({
      Ref: ids.timerDeadLetterQueue,
    });
  });
});

describe.each(STACKS)(
  '$name stack: the redrive of the workflows dead-letter queues',
  ({ stack, template, coupled }) => {
    const ids = idsOf(stack);
    const redriveId = logicalIdOf(stack.workflows.redrive.function.function, stack);
    const redrive = resourceOf(template, 'AWS::Lambda::Function', redriveId);
    const workflowsVariables = resourceOf(template, 'AWS::Lambda::Function', ids.function)
      .Properties.Environment.Variables as Record<string, unknown>;

    it.each([
      ['stream', 'deadLetterQueue'],
      ['timer', 'timerDeadLetterQueue'],
    ] as const)(
      'given the %s dead-letter queue, then it feeds the redrive: one message at a time, partial failures, two at once at most',
      (_which, key) => {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: { 'Fn::GetAtt': [ids[key], 'Arn'] },
          FunctionName: { Ref: redriveId },
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 2 },
        });
      },
    );

    it("given its processes append events, then it has the workflows function's 30 s and its environment", () => {
      expect(redrive.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Timeout: 30,
        Handler: 'index.handler',
      });
      // The same tables, timers (a step run again may set one) and, coupled, views with events.
      expect(redrive.Properties.Environment.Variables).toEqual(workflowsVariables);
      expect(workflowsVariables[ENV.writeViewsWithEvents]).toBe(coupled ? 'true' : undefined);
    });

    it('given its role, then it may read the batch back, run the commands and records, set timers and consume both queues: nothing else', () => {
      const { permissions, managedPolicyArns } = permissionsOf(template, redriveId);
      expect(managedPolicyArns).toEqual([]);
      const arn = (id: string) => `<${id}.Arn>`;
      const logGroupId = (redrive.Properties.LoggingConfig as { LogGroup: { Ref: string } })
        .LogGroup.Ref;
      const groupName = resourceOf(template, 'AWS::Scheduler::ScheduleGroup', ids.scheduleGroup)
        .Properties.Name as string;
      const consume = [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ];
      expect(permissions).toEqual(
        [
          ...grants(
            ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:Query'],
            [arn(ids.eventTable)],
          ),
          ...grants(
            ['dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            [`<${ids.eventTable}.StreamArn>`],
          ),
          ...grants(
            ['dynamodb:GetItem', 'dynamodb:PutItem'],
            [arn(ids.snapshots), arn(ids.commands)],
          ),
          ...grants(
            ['dynamodb:GetItem', 'dynamodb:PutItem', ...(coupled ? ['dynamodb:UpdateItem'] : [])],
            [arn(ids.projectionsTable)],
          ),
          ...grants(consume, [arn(ids.deadLetterQueue), arn(ids.timerDeadLetterQueue)]),
          ...grants(
            ['scheduler:CreateSchedule'],
            [
              `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*`,
            ],
          ),
          ...grants(['iam:PassRole'], [arn(ids.schedulerRole)]),
          ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [arn(logGroupId)]),
        ].sort(),
      );
      // The scheduler role still invokes the workflows function only (timers go there).
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: Match.arrayWith([{ Ref: permissionsOf(template, redriveId).roleId }]),
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 'iam:PassRole',
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [ids.schedulerRole, 'Arn'] },
              Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
            },
          ]),
        },
      });
    });

    it('given a batch the stream no longer holds, then its own metric counts the unrepairable lines and an alarm fires', () => {
      const namespace = `${stack.stackName}/Redrive`;
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: (redrive.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup,
        FilterPattern: `{ $.${UNREPAIRABLE.field} = "${UNREPAIRABLE.value}" }`,
        MetricTransformations: [
          {
            MetricNamespace: namespace,
            MetricName: UNREPAIRABLE_PROCESS_METRIC_NAME,
            MetricValue: '1',
          },
        ],
      });
      // Apart from the projector's redrive: each alarm names its own queue's problem.
      expect(UNREPAIRABLE_PROCESS_METRIC_NAME).not.toBe(UNREPAIRABLE_METRIC_NAME);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: UNREPAIRABLE_PROCESS_METRIC_NAME,
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 0,
        AlarmDescription: Match.stringLikeRegexp('Process failed.*delete the message'),
      });
    });
  },
);

describe('the function name', () => {
  it('given a stack name, when the name fits Lambda, then it is <stack>-workflows', () => {
    expect(workflowsFunctionNameOf('ReduxBackend-Decoupled')).toBe(
      'ReduxBackend-Decoupled-workflows',
    );
  });

  it('given a stack name too long for a Lambda name, then synthesis stops with a clear message', () => {
    expect(() => workflowsFunctionNameOf('x'.repeat(60))).toThrow(/longer than 64 characters/);
  });
});
