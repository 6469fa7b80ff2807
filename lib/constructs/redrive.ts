/**
 * Redrive in AWS: the projector's dead-letter queue feeds the redrive function (an SQS event
 * source), which reads each failed batch back from the event stream (its messages carry stream
 * coordinates, not events), re-projects the aggregates it names from the event table, and lets
 * the queue delete what it repaired (ReportBatchItemFailures keeps the rest). See
 * docs/decisions.md, "Redrive".
 *
 * - A message that cannot be repaired yet (the bug is still there) comes back after the queue's
 *   visibility timeout (ProjectionPipeline: 15 minutes), so a deployed fix is picked up without
 *   anyone acting; the DLQ alarm stays on while messages wait.
 * - maxConcurrency 2 (the least SQS allows) and small batches: a redrive never competes with the
 *   live projector for the tables' capacity.
 * - Pause it with `aws lambda update-event-source-mapping --uuid <id> --no-enabled`.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from './app-function';

export interface RedriveProps {
  /** The projector's dead-letter queue (ProjectionPipeline). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The event table; it must have a stream (the failed batches are read back from it). */
  readonly eventTable: dynamodb.ITableV2;
  readonly readModelTable: dynamodb.ITableV2;
  readonly projectionsTable: dynamodb.ITableV2;
  readonly tracing?: boolean;
  readonly disposable?: boolean;
  /** Messages per invocation (each names up to one projector batch). @default 5 */
  readonly batchSize?: number;
}

export class Redrive extends Construct {
  readonly function: AppFunction;
  readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: RedriveProps) {
    super(scope, id);
    this.function = new AppFunction(this, 'Function', {
      entry: 'redrive',
      description: 'Projector DLQ -> read back the failed batch -> re-project its aggregates',
      eventTable: { table: props.eventTable, access: 'read' },
      readModel: { table: props.readModelTable, access: 'project' },
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
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'An SQS event source has no on-failure destination (only stream sources do): a message ' +
        'the redrive cannot repair stays in the dead-letter queue itself, which is alarmed.',
    });
  }
}
