import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesize } from './helpers';

const { decoupled, coupled, decoupledTemplate, coupledTemplate } = synthesize();
const eventTableId = logicalIdOf(decoupled.eventTable.table, decoupled);
const queueId = logicalIdOf(decoupled.projection.deadLetterQueue, decoupled);
const projectorRef = {
  Ref: logicalIdOf(decoupled.projectorFunction.function, decoupled),
};

describe('event source mapping (event table stream -> projector)', () => {
  it('is on the event stream, with bounded, order-keeping retries', () => {
    // The others: the notifier's, on the projections stream (push.test.ts), the redrive's,
    // on the dead-letter queue (redrive.test.ts), the workflows function's, on the event
    // stream too, and its redrive's, on its two dead-letter queues (workflows.test.ts).
    decoupledTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 6);
    decoupledTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [eventTableId, 'StreamArn'] },
      FunctionName: projectorRef,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      // Well below the stream's 24 h retention: the redrive can read the batch back.
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('exists in the coupled stack too, feeding its projector, with its own DLQ and alarms', () => {
    // The notifier's mapping, on the projections stream, the projector's, on the event stream,
    // the redrive's, on the dead-letter queue (redrive.test.ts), and the workflows function's
    // (workflows.test.ts).
    coupledTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 6);
    coupledTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: Match.objectLike({ Ref: Match.stringLikeRegexp('^PushNotifierFunction') }),
    });
    const coupledQueueId = logicalIdOf(coupled.projection.deadLetterQueue, coupled);
    coupledTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: {
        'Fn::GetAtt': [logicalIdOf(coupled.eventTable.table, coupled), 'StreamArn'],
      },
      FunctionName: { Ref: logicalIdOf(coupled.projectorFunction.function, coupled) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [coupledQueueId, 'Arn'] } },
      },
    });
    // + the workflows' two queues and four alarms (workflows.test.ts), the event bus's two
    // queues and two alarms.
    coupledTemplate.resourceCountIs('AWS::SQS::Queue', 1 + 2 + 2);
    coupledTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 3 + 5 + 2);
  });
});

describe('dead-letter queue', () => {
  it('is encrypted (SSE-SQS) and keeps messages 14 days', () => {
    // + the workflows' two queues (workflows.test.ts) and the event bus's two.
    decoupledTemplate.resourceCountIs('AWS::SQS::Queue', 1 + 2 + 2);
    decoupledTemplate.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('denies every request not made over TLS', () => {
    decoupledTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]),
      },
    });
  });
});

describe('alarms', () => {
  it("has the pipeline's two alarms and the redrive's (redrive.test.ts), besides the workflows' five (workflows.test.ts, its redrive's unrepairable batches included) and the event bus's two", () => {
    decoupledTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 3 + 5 + 2);
  });

  it('fires when the projector is more than 60 s behind the stream (IteratorAge maximum)', () => {
    decoupledTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: projectorRef }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires as soon as the dead-letter queue holds a message, visible or in flight', () => {
    // In flight counts: the redrive keeps a message it could not repair yet invisible for 15
    // minutes between tries, so "visible" alone would miss a message that waits for a fix.
    const sqsMetric = (id: string, name: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: name,
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
      ReturnData: false,
    });
    decoupledTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'visible + inFlight' }),
        sqsMetric('visible', 'ApproximateNumberOfMessagesVisible'),
        sqsMetric('inFlight', 'ApproximateNumberOfMessagesNotVisible'),
      ]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });
});
