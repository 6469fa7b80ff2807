/**
 * Redrive in AWS: the projector's dead-letter queue feeds the redrive function (an SQS event
 * source), which reads each failed batch back from the event stream (its messages carry stream
 * coordinates, not events), re-projects the aggregates it names from the event table, and lets
 * the queue delete what it repaired (ReportBatchItemFailures keeps the rest). See
 * docs/decisions/redrive.md. Used by both stacks: with the order-row table (decoupled) or
 * without it (coupled: that row is written with the events; the declared projections only).
 *
 * - A message that cannot be repaired yet (the bug is still there) comes back after the queue's
 *   visibility timeout (ProjectionPipeline: 15 minutes), so a deployed fix is picked up without
 *   anyone acting; the DLQ alarm (visible + in flight) stays on while messages wait.
 * - A message whose batch the stream no longer holds (older than its 24-hour retention) can
 *   never be repaired by the function: it logs an `unrepairable` line at every try, a metric
 *   filter counts those, and `unrepairableAlarm` fires (one-hour periods, so it stays on while
 *   the message is retried every 15 minutes). The message stays in the queue; the operator
 *   re-projects the aggregates by id or rebuilds, then deletes it (docs/operations/redrive.md).
 * - maxConcurrency 2 (the least SQS allows) and small batches: a redrive never competes with the
 *   live projector for the tables' capacity.
 * - Pause it with `aws lambda update-event-source-mapping --uuid <id> --no-enabled`.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { UNREPAIRABLE } from '../../lambdas/handlers/redrive';
import { AppFunction } from './app-function';

export interface RedriveProps {
  /** The projector's dead-letter queue (ProjectionPipeline). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The event table; it must have a stream (the failed batches are read back from it). */
  readonly eventTable: dynamodb.ITableV2;
  readonly projectionsTable: dynamodb.ITableV2;
  readonly tracing?: boolean;
  readonly disposable?: boolean;
  /** Messages per invocation (each names up to one projector batch). @default 5 */
  readonly batchSize?: number;
}

/** Where the count of unrepairable messages goes: one namespace per stack. */
export const UNREPAIRABLE_METRIC_NAME = 'UnrepairableBatches';

export class Redrive extends Construct {
  readonly function: AppFunction;
  readonly eventSource: SqsEventSource;
  /** Dead-letter messages the function met that the stream can no longer give back (per try). */
  readonly unrepairableMetric: cloudwatch.Metric;
  /** At least one such message in the last hour: the operator must repair by id or rebuild. */
  readonly unrepairableAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RedriveProps) {
    super(scope, id);
    this.function = new AppFunction(this, 'Function', {
      entry: 'redrive',
      description: 'Projector DLQ -> read back the failed batch -> re-project its aggregates',
      eventTable: { table: props.eventTable, access: 'read' },
      projections: { table: props.projectionsTable, access: 'project' },
      // A message names up to 100 records; each aggregate is a few reads and writes.
      timeout: Duration.minutes(2),
      tracing: props.tracing,
      disposable: props.disposable,
    });
    const streamArn = props.eventTable.tableStreamArn;
    if (!streamArn) throw new Error('Redrive needs the event table stream');
    // Only the two calls that read a batch back; no DescribeStream/ListStreams (the message
    // names the shard and the sequence numbers).
    this.function.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
        resources: [streamArn],
      }),
    );
    this.eventSource = new SqsEventSource(props.deadLetterQueue, {
      batchSize: props.batchSize ?? 5,
      reportBatchItemFailures: true,
      maxConcurrency: 2,
    });
    this.function.function.addEventSource(this.eventSource);

    // The handler's `unrepairable` line (lambdas/handlers/redrive.ts), counted.
    const filter = new logs.MetricFilter(this, 'UnrepairableFilter', {
      logGroup: this.function.logGroup,
      filterPattern: logs.FilterPattern.stringValue(
        `$.${UNREPAIRABLE.field}`,
        '=',
        UNREPAIRABLE.value,
      ),
      metricNamespace: `${Stack.of(this).stackName}/Redrive`,
      metricName: UNREPAIRABLE_METRIC_NAME,
      metricValue: '1',
    });
    this.unrepairableMetric = filter.metric({
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
    });
    this.unrepairableAlarm = new cloudwatch.Alarm(this, 'UnrepairableAlarm', {
      alarmDescription:
        'A dead-letter message names a projection batch the event stream no longer holds ' +
        '(older than 24 hours): the redrive cannot repair it. Re-project its aggregates by id ' +
        '(the projector\'s "Projection failed" log lines) or rebuild, then delete the message ' +
        '(docs/operations/redrive.md). Stays on while the message is retried (every 15 minutes).',
      metric: this.unrepairableMetric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'An SQS event source has no on-failure destination (only stream sources do): a message ' +
        'the redrive cannot repair stays in the dead-letter queue itself, which is alarmed.',
    });
  }
}
