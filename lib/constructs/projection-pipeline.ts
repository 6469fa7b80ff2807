/**
 * The decoupled profile's projection: the event table's stream feeds the projector function.
 *
 * - TRIM_HORIZON: a new mapping starts from the oldest record the stream still holds (24 h),
 *   so events written before the first deployment of the projector are not skipped.
 * - parallelizationFactor 1: one batch per shard at a time, in shard order. An aggregate's
 *   events share a partition key, so they normally arrive in version order; a higher factor
 *   would spread them over concurrent batches and make the projector heal gaps (reads from the
 *   event table) and lose conditional-write races all the time instead of rarely.
 * - ReportBatchItemFailures + bisect + bounded retries + maximum record age: a poison record is
 *   isolated and retried a bounded number of times, then its batch's metadata goes to the
 *   dead-letter queue and the shard moves on; the redrive function (./redrive.ts) reads the
 *   batch back from the stream and re-projects its aggregates from the event table.
 * - Alarms: the stream falling behind (IteratorAge) and anything in the dead-letter queue,
 *   visible or in flight (a message the redrive keeps for its next try is in flight).
 *   They have no actions; subscribe them (e.g. an SNS topic) where the deployment needs it.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { eventStreamSource } from './event-stream-source';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ProjectionPipelineProps {
  /** The event table; it must have a stream (EventTable `stream: true`). */
  readonly eventTable: dynamodb.ITableV2;
  /** The projector function. */
  readonly projector: lambda.IFunction;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch (after bisecting) before it goes to the DLQ. @default 10 */
  readonly retryAttempts?: number;
  /**
   * Records older than this go to the DLQ without being retried further. Well below the
   * stream's 24-hour retention, so the redrive can still read such a batch back.
   * @default 6 hours
   */
  readonly maxRecordAge?: Duration;
  /**
   * How long a DLQ message the redrive could not repair stays hidden before its next try.
   * @default 15 minutes
   */
  readonly deadLetterRetryDelay?: Duration;
  /** IteratorAge above which the alarm fires. @default 60 seconds */
  readonly iteratorAgeThreshold?: Duration;
}

export class ProjectionPipeline extends Construct {
  /** Where the metadata of batches that failed every retry goes (shard, sequence numbers). */
  readonly deadLetterQueue: sqs.Queue;
  readonly eventSource: DynamoEventSource;
  /** The projector is behind the stream by more than the threshold. */
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  /** The DLQ holds at least one message: a projection failed for good. */
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ProjectionPipelineProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // The redrive's retry delay (lib/constructs/redrive.ts); above its function's timeout.
      visibilityTimeout: props.deadLetterRetryDelay ?? Duration.minutes(15),
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter destination of the projection; a DLQ of the ' +
          'DLQ would only move the same messages (it is alarmed instead).',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'Same as AwsSolutions-SQS3: this queue is the dead-letter queue; it is alarmed.',
      },
    );

    this.eventSource = eventStreamSource(props.eventTable, this.deadLetterQueue, props);
    props.projector.addEventSource(this.eventSource);

    const threshold = props.iteratorAgeThreshold ?? Duration.seconds(60);
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription: `The projector is more than ${threshold.toHumanString()} behind the event stream`,
      metric: props.projector.metric('IteratorAge', {
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Visible + in flight: the redrive function (./redrive.ts) receives each message within
    // seconds and, when it cannot repair it yet, keeps it invisible for the visibility timeout
    // (15 minutes) before the next try, so "visible" alone would be 0 almost all the time a
    // message waits. The sum counts every message still in the queue.
    const inQueue = { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) };
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'A projection batch failed every retry: see the dead-letter queue (visible or in flight)',
      metric: new cloudwatch.MathExpression({
        label: 'Messages in the dead-letter queue',
        expression: 'visible + inFlight',
        usingMetrics: {
          visible: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(inQueue),
          inFlight: this.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible(inQueue),
        },
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
