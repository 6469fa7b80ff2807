/**
 * The event bus in both stacks' templates (lib/constructs/event-bus.ts): the bus, the pipe from
 * the event stream (INSERTs only, enrichment, bounded retries, dead-letter queue), the alarms,
 * the sample consumer's rule, function, idempotency table and dead-letter path, and each role
 * granted exactly what it uses.
 */
import type { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { busSourceOf } from '../../lambdas/core/events/bus-envelope';
import { BUS_ENV, BUS_PIPE_SETTINGS } from '../../lambdas/handlers/bus-wiring';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import {
  SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS,
  SAMPLE_CONSUMER_TABLE,
} from '../../lambdas/handlers/sample-consumer';
import type { EventBus } from '../../lib/constructs/event-bus';
import { OUTPUT } from '../../lib/stacks/outputs';
import { flatten, grants, logicalIdOf, permissionsOf, synthesize } from './helpers';

const built = synthesize();

const STACKS = [
  ['decoupled', built.decoupledTemplate, built.decoupled],
  ['coupled', built.coupledTemplate, built.coupled],
] as const;

type Json = Parameters<typeof flatten>[0];

/** Every Allow `action resource` pair of a role (inline and attached policies), sorted. */
const rolePermissions = (template: Template, roleId: string): string[] => {
  const pairs: string[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as {
      Effect: string;
      Action: string | string[];
      Resource: Json;
    }[]) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat()) {
        pairs.push(`${action} ${flatten(statement.Resource)}`);
      }
    }
  }
  return pairs.sort();
};

describe.each(STACKS)('the %s stack', (stackName, template, stack) => {
  const bus: EventBus = stack.eventBus;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    logicalIdOf(construct, stack as Stack);
  const busId = id(bus.bus);
  const queueId = id(bus.deadLetterQueue);
  const consumerQueueId = id(bus.sampleConsumerDeadLetterQueue);
  const enrichmentId = id(bus.enrichmentFunction.function);
  const consumerId = id(bus.sampleConsumerFunction.function);
  const tableId = id(bus.idempotencyTable);
  const eventTableId = id(stack.eventTable.table);

  it('has one event bus, and outputs its name, its ARN and the pipe dead-letter queue URL', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const outputs = template.findOutputs('*');
    expect(outputs[OUTPUT.eventBusName]?.Value).toEqual({ Ref: busId });
    expect(outputs[OUTPUT.eventBusArn]?.Value).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(outputs[OUTPUT.eventBusDeadLetterQueueUrl]?.Value).toEqual({ Ref: queueId });
  });

  it('pipes the event stream, INSERTs only, through the enrichment function to the bus, with bounded retries and a DLQ', () => {
    template.resourceCountIs('AWS::Pipes::Pipe', 1);
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: { 'Fn::GetAtt': [eventTableId, 'StreamArn'] },
      SourceParameters: {
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: BUS_PIPE_SETTINGS.batchSize,
          ParallelizationFactor: 1,
          MaximumRetryAttempts: 10,
          MaximumRecordAgeInSeconds: 6 * 3600,
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        },
      },
      Enrichment: { 'Fn::GetAtt': [enrichmentId, 'Arn'] },
      Target: { 'Fn::GetAtt': [busId, 'Arn'] },
      TargetParameters: {
        EventBridgeEventBusParameters: {
          Source: busSourceOf(stackName),
          DetailType: '$.type',
          Time: '$.occurredAt',
        },
      },
      RoleArn: { 'Fn::GetAtt': [id(bus.pipeRole), 'Arn'] },
      LogConfiguration: Match.objectLike({ Level: 'ERROR' }),
    });
    // Batches fit one PutEvents call.
    expect(BUS_PIPE_SETTINGS.batchSize).toBeLessThanOrEqual(10);
  });

  it("the pipe's role: read this stream, invoke the enrichment, put on this bus, send to its DLQ, write its log; nothing else", () => {
    const roleId = id(bus.pipeRole);
    const role = template.findResources('AWS::IAM::Role')[roleId]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'pipes.amazonaws.com' } }),
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(rolePermissions(template, roleId)).toEqual(
      [
        ...grants(
          [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ],
          [`<${eventTableId}.StreamArn>`],
        ),
        `lambda:InvokeFunction <${enrichmentId}.Arn>`,
        `events:PutEvents <${busId}.Arn>`,
        `sqs:SendMessage <${queueId}.Arn>`,
        ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [`<${id(bus.pipeLogGroup)}.Arn>`]),
      ].sort(),
    );
  });

  it('the enrichment function knows its source and may only write its logs (it calls no AWS service)', () => {
    const fn = template.findResources('AWS::Lambda::Function')[enrichmentId]!;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [BUS_ENV.source]: busSourceOf(stackName),
    });
    const { permissions } = permissionsOf(template, enrichmentId);
    expect(permissions).toEqual(
      grants(
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        [`<${id(bus.enrichmentFunction.logGroup)}.Arn>`],
      ),
    );
  });

  it('alarms on the first visible message of each dead-letter queue', () => {
    for (const queue of [queueId, consumerQueueId]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('encrypts both dead-letter queues and keeps messages 14 days', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    for (const queue of [queueId, consumerQueueId]) {
      expect(queues[queue]!.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    }
  });

  it("routes this stack's domain events to the sample consumer by rule, with retries and a DLQ", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: {
        source: [busSourceOf(stackName)],
        'detail-type': AGGREGATES.map((aggregate) => ({ prefix: `${aggregate.type}/` })),
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [consumerId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [consumerQueueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 24 * 3600 },
        }),
      ],
    });
    // What fails in the function after Lambda's asynchronous retries goes there too.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: consumerId },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [consumerQueueId, 'Arn'] } },
      },
    });
    // Only this rule may invoke it.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [consumerId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [id(bus.sampleConsumerRule), 'Arn'] },
    });
  });

  it('the sample consumer remembers eventIds in its own expiring table, longer than a copy can come late', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: SAMPLE_CONSUMER_TABLE.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: SAMPLE_CONSUMER_TABLE.partitionKey, AttributeType: 'S' },
      ],
      TimeToLiveSpecification: {
        AttributeName: SAMPLE_CONSUMER_TABLE.expiryAttribute,
        Enabled: true,
      },
      BillingMode: 'PAY_PER_REQUEST',
    });
    const fn = template.findResources('AWS::Lambda::Function')[consumerId]!;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [BUS_ENV.idempotencyTable]: { Ref: tableId },
    });
    // The pipe's maximum record age, then EventBridge's day of retries.
    expect(SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS).toBeGreaterThanOrEqual(
      BUS_PIPE_SETTINGS.maxRecordAgeSeconds + 24 * 3600,
    );
  });

  it("the sample consumer's role: its idempotency records, its DLQ and its logs; no other table", () => {
    const { permissions, managedPolicyArns } = permissionsOf(template, consumerId);
    expect(managedPolicyArns).toEqual([]);
    expect(permissions).toEqual(
      [
        ...grants(
          ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          [`<${tableId}.Arn>`],
        ),
        ...grants(
          ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          [`<${consumerQueueId}.Arn>`],
        ),
        ...grants(
          ['logs:CreateLogStream', 'logs:PutLogEvents'],
          [`<${id(bus.sampleConsumerFunction.logGroup)}.Arn>`],
        ),
      ].sort(),
    );
  });
});

it('each stack publishes under its own source', () => {
  expect(built.decoupled.eventBus.source).toBe('redux-backend.decoupled');
  expect(built.coupled.eventBus.source).toBe('redux-backend.coupled');
});
