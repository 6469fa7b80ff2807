/**
 * Redrive in AWS: a stream consumer's dead-letter queue feeds a redrive function (an SQS event
 * source), which reads each failed batch back from the event stream (its messages carry stream
 * coordinates, not events), runs the consumer's work again on the aggregates it names, from the
 * event table, and lets the queue delete what it repaired (ReportBatchItemFailures keeps the
 * rest). See docs/decisions/redrive.md. Two per stack:
 *
 * - the projector's (the stacks): re-projects into the declared projections (on the coupled
 *   stack, skipping the views its commands wrote with their events);
 * - the workflows function's (`processes`, ./workflows.ts): runs the process managers again
 *   from the failed events, through the same process runner, so it gets what the workflows
 *   function has to send commands and set timers; its timer dead-letter queue feeds it too (a
 *   timer it failed on fires again).
 *
 * - A message that cannot be repaired yet (the bug is still there) comes back after the queue's
 *   visibility timeout (15 minutes, set by ProjectionPipeline and Workflows), so a deployed fix
 *   is picked up without anyone acting; the DLQ alarm (visible + in flight) stays on while
 *   messages wait.
 * - A message whose batch the stream no longer holds (older than its 24-hour retention) can
 *   never be repaired by the function: it logs an `unrepairable` line at every try, a metric
 *   filter counts those (a metric per consumer), and `unrepairableAlarm` fires (one-hour
 *   periods, so it stays on while the message is retried every 15 minutes). The message stays
 *   in the queue; the operator re-runs the aggregates by id (or rebuilds), then deletes it
 *   (docs/operations/redrive.md).
 * - maxConcurrency 2 (the least SQS allows) and small batches: a redrive never competes with the
 *   live consumer for the tables' capacity.
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
import { AppFunction, type AppFunctionProps } from './app-function';

/** What a workflows redrive function needs beyond a projector's: the command path and timers. */
export interface ProcessRedriveAccess {
  /** The command side's tables, as the workflows function has them. */
  readonly commandTables: NonNullable<AppFunctionProps['commandTables']>;
  /** Gives the function the workflows function's environment and grants for its commands and timers. */
  readonly grantProcessRuns: (fn: AppFunction) => void;
  /** The workflows function's timer dead-letter queue: it feeds the redrive too. */
  readonly timerDeadLetterQueue: sqs.IQueue;
  /**
   * The workflows function's timeout: its processes append events, and a function that appends
   * stops within the rebuild's `--until` margin (./workflows.ts, `timeout`).
   */
  readonly timeout: Duration;
}

export interface RedriveProps {
  /** The consumer's dead-letter queue (ProjectionPipeline's, or Workflows'). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The event table; it must have a stream (the failed batches are read back from it). */
  readonly eventTable: dynamodb.ITableV2;
  readonly projectionsTable: dynamodb.ITableV2;
  readonly tracing?: boolean;
  readonly disposable?: boolean;
  /**
   * Messages per invocation (each names up to one consumer batch).
   * @default 5; 1 with `processes` (one batch, the workflows function's budget)
   */
  readonly batchSize?: number;
  /**
   * Run the process managers again instead of re-projecting: the workflows function's
   * dead-letter queues (./workflows.ts).
   * @default re-project (the projector's dead-letter queue)
   */
  readonly processes?: ProcessRedriveAccess;
}

/** Where the count of unrepairable messages goes: one namespace per stack, a name per consumer. */
export const UNREPAIRABLE_METRIC_NAME = 'UnrepairableBatches';
/** The workflows' redrive's: apart from the projector's, so each alarm names its own queue. */
export const UNREPAIRABLE_PROCESS_METRIC_NAME = 'UnrepairableWorkflowBatches';

export class Redrive extends Construct {
  readonly function: AppFunction;
  readonly eventSource: SqsEventSource;
  /** Dead-letter messages the function met that the stream can no longer give back (per try). */
  readonly unrepairableMetric: cloudwatch.Metric;
  /** At least one such message in the last hour: the operator must repair by id or rebuild. */
  readonly unrepairableAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RedriveProps) {
    super(scope, id);
    const { processes } = props;
    this.function = new AppFunction(this, 'Function', {
      ...(processes
        ? {
            entry: 'workflows-redrive',
            description: 'Workflows DLQs -> read back the failed batch -> run its processes again',
            // Its processes send commands, as the workflows function's do.
            eventTable: { table: props.eventTable, access: 'append' },
            commandTables: processes.commandTables,
          }
        : {
            entry: 'redrive',
            description: 'Projector DLQ -> read back the failed batch -> re-project its aggregates',
            eventTable: { table: props.eventTable, access: 'read' },
          }),
      projections: { table: props.projectionsTable, access: 'project' },
      // A message names up to 100 records; each aggregate is a few reads and writes (processes:
      // and its commands, in the workflows function's time).
      timeout: processes?.timeout ?? Duration.minutes(2),
      tracing: props.tracing,
      disposable: props.disposable,
    });
    processes?.grantProcessRuns(this.function);
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
    const batchSize = props.batchSize ?? (processes ? 1 : 5);
    this.eventSource = new SqsEventSource(props.deadLetterQueue, {
      batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: 2,
    });
    this.function.function.addEventSource(this.eventSource);
    if (processes) {
      // A timer the workflows function failed on: the same function fires it again.
      this.function.function.addEventSource(
        new SqsEventSource(processes.timerDeadLetterQueue, {
          batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: 2,
        }),
      );
    }

    // The handler's `unrepairable` line (lambdas/handlers/redrive.ts), counted.
    const filter = new logs.MetricFilter(this, 'UnrepairableFilter', {
      logGroup: this.function.logGroup,
      filterPattern: logs.FilterPattern.stringValue(
        `$.${UNREPAIRABLE.field}`,
        '=',
        UNREPAIRABLE.value,
      ),
      metricNamespace: `${Stack.of(this).stackName}/Redrive`,
      metricName: processes ? UNREPAIRABLE_PROCESS_METRIC_NAME : UNREPAIRABLE_METRIC_NAME,
      metricValue: '1',
    });
    this.unrepairableMetric = filter.metric({
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
    });
    this.unrepairableAlarm = new cloudwatch.Alarm(this, 'UnrepairableAlarm', {
      alarmDescription: processes
        ? 'A workflows dead-letter message names a batch the event stream no longer holds ' +
          '(older than 24 hours): the redrive cannot run its processes. Send its events by id ' +
          'and version (the workflows function\'s "Process failed" log lines) to the queue, then ' +
          'delete the message (docs/operations/redrive.md). Stays on while the message is ' +
          'retried (every 15 minutes).'
        : 'A dead-letter message names a projection batch the event stream no longer holds ' +
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
