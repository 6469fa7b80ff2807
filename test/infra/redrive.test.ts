/**
 * The redrive function (lib/constructs/redrive.ts): fed by the projector's dead-letter queue,
 * it reads failed batches back from the event stream and re-projects from the event table.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/handlers/environment';
import { UNREPAIRABLE } from '../../lambdas/handlers/redrive';
import { UNREPAIRABLE_METRIC_NAME } from '../../lib/constructs/redrive';
import { grants, logicalIdOf, permissionsOf, synthesize } from './helpers';

const { decoupled, coupled, decoupledTemplate, coupledTemplate } = synthesize();
const id = (construct: Parameters<typeof logicalIdOf>[0]) => logicalIdOf(construct, decoupled);
const queueId = id(decoupled.projection.deadLetterQueue);
const functionId = id(decoupled.redrive.function.function);

describe('redrive function', () => {
  it('is fed by the dead-letter queue: small batches, partial failures, two at a time at most', () => {
    decoupledTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('retries a message it could not repair after 15 minutes (the queue visibility timeout)', () => {
    decoupledTemplate.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 900 });
    const fn = decoupledTemplate.findResources('AWS::Lambda::Function')[functionId];
    // Below the visibility timeout, so a message is never handled twice at once.
    expect(fn?.Properties.Timeout).toBe(120);
  });

  it('gets the two table names, and nothing else', () => {
    const fn = decoupledTemplate.findResources('AWS::Lambda::Function')[functionId];
    const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(
      ['NODE_OPTIONS', ENV.eventTable, ENV.projectionsTable].sort(),
    );
  });

  it('may read the event table and its stream, consume the DLQ, and write only the projections table', () => {
    const events = id(decoupled.eventTable.table);
    const projections = `<${id(decoupled.projectionsTable.table)}.Arn>`;
    const dlq = `<${queueId}.Arn>`;
    const fn = decoupledTemplate.findResources('AWS::Lambda::Function')[functionId];
    const logGroup = `<${(fn?.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref}.Arn>`;
    expect(permissionsOf(decoupledTemplate, functionId).permissions).toEqual(
      [
        ...grants(['dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [`<${events}.StreamArn>`]),
        ...grants(['dynamodb:Query'], [`<${events}.Arn>`]),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [projections]),
        ...grants(
          [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          [dlq],
        ),
        ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup]),
      ].sort(),
    );
  });

  it('counts the messages it can never repair (batch trimmed from the stream) and alarms on them', () => {
    const fn = decoupledTemplate.findResources('AWS::Lambda::Function')[functionId];
    const logGroup = (fn?.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup;
    // The filter matches the handler's own mark (lambdas/handlers/redrive.ts, UNREPAIRABLE).
    decoupledTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: logGroup,
      FilterPattern: `{ $.${UNREPAIRABLE.field} = "${UNREPAIRABLE.value}" }`,
      MetricTransformations: [
        {
          MetricNamespace: 'ReduxBackend-Decoupled/Redrive',
          MetricName: UNREPAIRABLE_METRIC_NAME,
          MetricValue: '1',
        },
      ],
    });
    // One-hour periods: the message is retried (and counted) every 15 minutes, so the alarm
    // stays on until the operator has repaired by id and deleted the message.
    decoupledTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ReduxBackend-Decoupled/Redrive',
      MetricName: UNREPAIRABLE_METRIC_NAME,
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('no longer holds.*Re-project its aggregates by id'),
    });
    expect(decoupled.redrive.unrepairableAlarm).toBeDefined();
  });

  it('is named in an output', () => {
    decoupledTemplate.hasOutput('RedriveFunctionName', { Value: { Ref: functionId } });
  });
});

describe('redrive function, coupled stack', () => {
  const cid = (construct: Parameters<typeof logicalIdOf>[0]) => logicalIdOf(construct, coupled);
  const coupledQueueId = cid(coupled.projection.deadLetterQueue);
  const coupledFunctionId = cid(coupled.redrive.function.function);

  it("is fed by the coupled projector's dead-letter queue, as in the decoupled stack", () => {
    coupledTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [coupledQueueId, 'Arn'] },
      FunctionName: { Ref: coupledFunctionId },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    coupledTemplate.hasOutput('RedriveFunctionName', { Value: { Ref: coupledFunctionId } });
  });

  it('gets the same tables and grants as in the decoupled stack: events in, the projections table out', () => {
    const fn = coupledTemplate.findResources('AWS::Lambda::Function')[coupledFunctionId];
    const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(
      ['NODE_OPTIONS', ENV.eventTable, ENV.projectionsTable].sort(),
    );
    const events = cid(coupled.eventTable.table);
    const projections = `<${cid(coupled.projectionsTable.table)}.Arn>`;
    const dlq = `<${coupledQueueId}.Arn>`;
    const logGroup = `<${(fn?.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref}.Arn>`;
    expect(permissionsOf(coupledTemplate, coupledFunctionId).permissions).toEqual(
      [
        ...grants(['dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [`<${events}.StreamArn>`]),
        ...grants(['dynamodb:Query'], [`<${events}.Arn>`]),
        ...grants(['dynamodb:GetItem', 'dynamodb:PutItem'], [projections]),
        ...grants(
          [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          [dlq],
        ),
        ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup]),
      ].sort(),
    );
  });

  it('alarms on unrepairable messages in its own namespace', () => {
    coupledTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: `{ $.${UNREPAIRABLE.field} = "${UNREPAIRABLE.value}" }`,
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: 'ReduxBackend-Coupled/Redrive',
          MetricName: UNREPAIRABLE_METRIC_NAME,
        }),
      ],
    });
    coupledTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ReduxBackend-Coupled/Redrive',
      MetricName: UNREPAIRABLE_METRIC_NAME,
      Period: 3600,
      Threshold: 0,
    });
  });
});
