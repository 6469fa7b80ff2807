/**
 * How a function reads the event table's stream, the same for every function that does (the
 * projector, the workflows function): from the oldest record kept (so nothing stored before the
 * function's first deployment is skipped), one batch per shard at a time (an aggregate's events
 * in order), failed batches bisected and retried a bounded number of times, partial failures
 * reported, and what is given up on sent to a dead-letter queue (its coordinates, for a redrive).
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

export interface EventStreamSourceProps {
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failed batch (after bisecting) before it is dead-lettered. @default 10 */
  readonly retryAttempts?: number;
  /** Records older than this are dead-lettered unread. @default 6 hours */
  readonly maxRecordAge?: Duration;
}

export const eventStreamSource = (
  eventTable: dynamodb.ITableV2,
  deadLetterQueue: sqs.IQueue,
  props: EventStreamSourceProps = {},
): DynamoEventSource =>
  new DynamoEventSource(eventTable, {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: props.batchSize ?? 100,
    bisectBatchOnError: true,
    retryAttempts: props.retryAttempts ?? 10,
    maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
    reportBatchItemFailures: true,
    parallelizationFactor: 1,
    onFailure: new SqsDlq(deadLetterQueue),
  });
