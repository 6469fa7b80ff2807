/**
 * The workflows function: runs the declared process managers (lambdas/handlers/workflows.ts) from
 * the event table's stream and from their timers, in both stacks.
 *
 *   event table stream -> workflows function -> commands (the stack's own command path)
 *                                            -> process records (projections table)
 *                                            -> timers: one-time schedules (EventBridge Scheduler)
 *   due schedule -> workflows function `{ processTimer }`
 *
 * - The stream mapping has the projector's settings, for the same reasons
 *   (./projection-pipeline.ts): TRIM_HORIZON (events written before the first deployment are not
 *   skipped; a process's checkpoint makes a replay harmless), one batch per shard at a time (an
 *   aggregate's events arrive in version order), ReportBatchItemFailures + bisect + bounded
 *   retries + a maximum record age, then the batch's stream coordinates go to the dead-letter
 *   queue. Alarms on IteratorAge and on any message in that queue.
 * - Redrive (`redrive`, ./redrive.ts), as the projector's: both dead-letter queues feed a
 *   function that reads a failed batch back from the stream and runs its processes again from
 *   the failed events (the same process runner: checkpoints and commandIds make it harmless),
 *   and fires a failed timer again. A message it cannot repair yet comes back after 15 minutes
 *   (the queues' visibility timeout), so a deployed fix is picked up without anyone acting.
 * - Commands: the function appends events as the command function does (Query, PutItem,
 *   ConditionCheckItem on the event table; GetItem + PutItem on snapshots and idempotency
 *   markers). On the coupled stack (`writeViewsWithEvents`) its commands write their aggregate's
 *   view in the events' transaction, as the coupled API's do: UpdateItem on the projections table
 *   too. Its own records: GetItem + conditional PutItem on the projections table.
 * - Timers: a schedule group of this stack; the function may create schedules in that group only
 *   and pass the scheduler role only; the scheduler role (assumed by EventBridge Scheduler for
 *   schedules of this group, in this account) may invoke this function only. A schedule invokes
 *   the function asynchronously: a timer the function fails on (after Lambda's two retries) goes
 *   to the timer dead-letter queue with its input (fired again by the redrive); a timer Scheduler
 *   could not deliver (its retry policy, set in lambdas/core/workflows/eventbridge-scheduler-timers.ts) is
 *   counted as dropped. Both alarmed.
 * - Alarms have no actions: subscribe them where the deployment needs it (docs/operations/alarms.md).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { eventStreamSource } from './event-stream-source';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/handlers/environment';
import { AppFunction } from './app-function';
import { Redrive } from './redrive';

export interface WorkflowsProps {
  /** The event table; it must have a stream (EventTable `stream: true`). */
  readonly eventTable: dynamodb.ITableV2;
  /** Where the process records live (beside the declared projections' rows). */
  readonly projectionsTable: dynamodb.ITableV2;
  /** The command side's tables, as the stack's command function has them. */
  readonly commandTables: {
    readonly snapshots: dynamodb.ITableV2;
    readonly commands: dynamodb.ITableV2;
    readonly snapshotEvery: number;
  };
  /**
   * Commands write their aggregate's view with their events (the coupled stack): sets
   * WRITE_VIEWS_WITH_EVENTS=true and grants UpdateItem on the projections table.
   * @default false
   */
  readonly writeViewsWithEvents?: boolean;
  readonly tracing?: boolean;
  readonly disposable?: boolean;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch (after bisecting) before it goes to the DLQ. @default 10 */
  readonly retryAttempts?: number;
  /** Records older than this go to the DLQ unretried (below the stream's 24 h). @default 6 hours */
  readonly maxRecordAge?: Duration;
  /** IteratorAge above which the alarm fires. @default 60 seconds */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * How long a dead-letter message the redrive could not repair stays hidden before its next try.
   * @default 15 minutes
   */
  readonly deadLetterRetryDelay?: Duration;
  /**
   * A batch sends commands (each a few reads and a transaction, retried on conflicts): more than
   * an API call's 10 s, but at most 30 s, as every function that appends events, so that a
   * rebuild's `--until` margin (UNTIL_SAFETY_MARGIN_MS, 60 s) covers any append in flight. A
   * timeout retries the whole batch, harmlessly (commandIds, checkpoints) but wastefully.
   * @default 30 seconds
   */
  readonly timeout?: Duration;
}

/** Lambda's limit on a function name. */
const MAX_FUNCTION_NAME = 64;

/** The workflows function's name: fixed, so its ARN is known before it exists (see below). */
export const workflowsFunctionNameOf = (stackName: string): string => {
  if (Token.isUnresolved(stackName)) {
    throw new Error('Workflows needs a stack with a literal name (its function is named after it)');
  }
  const name = `${stackName}-workflows`;
  if (name.length > MAX_FUNCTION_NAME) {
    throw new Error(
      `The workflows function's name ${name} is longer than ${MAX_FUNCTION_NAME} characters: ` +
        'use a shorter stack name',
    );
  }
  return name;
};

/**
 * A dead-letter queue: encrypted, TLS only, 14 days; alarmed rather than dead-lettered again.
 * The visibility timeout is the redrive's retry delay (above its function's timeout).
 */
const deadLetterQueue = (scope: Construct, id: string, what: string, retryDelay: Duration) => {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    visibilityTimeout: retryDelay,
  });
  Validations.of(queue).acknowledge(
    {
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter destination of ${what}; a DLQ of the DLQ would only move the same messages (it is alarmed instead).`,
    },
    {
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'Same as AwsSolutions-SQS3: this queue is a dead-letter queue; it is alarmed.',
    },
  );
  return queue;
};

/**
 * Any message in the queue, visible or in flight: the redrive receives each within seconds and,
 * when it cannot repair it yet, holds it for the visibility timeout before the next try, so
 * "visible" alone would be 0 almost all the time a message waits (as the projector's DLQ alarm).
 */
const anyMessageAlarm = (scope: Construct, id: string, queue: sqs.Queue, description: string) => {
  const inQueue = { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) };
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric: new cloudwatch.MathExpression({
      label: 'Messages in the dead-letter queue',
      expression: 'visible + inFlight',
      usingMetrics: {
        visible: queue.metricApproximateNumberOfMessagesVisible(inQueue),
        inFlight: queue.metricApproximateNumberOfMessagesNotVisible(inQueue),
      },
      period: Duration.minutes(1),
    }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
};

export class Workflows extends Construct {
  readonly function: AppFunction;
  /** `<stack name>-workflows`. */
  readonly functionName: string;
  readonly eventSource: DynamoEventSource;
  /** Stream batches that failed every retry (shard, sequence numbers): a process step failed. */
  readonly deadLetterQueue: sqs.Queue;
  /** Timers the function failed on after Lambda's retries (each message: the timer's input). */
  readonly timerDeadLetterQueue: sqs.Queue;
  /** Where the processes' one-time schedules are created. */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** What EventBridge Scheduler assumes to invoke the function. */
  readonly schedulerRole: iam.Role;
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly timerDeadLetterAlarm: cloudwatch.Alarm;
  /** Scheduler gave up invoking the function for a timer (its retry policy ran out). */
  readonly droppedTimersAlarm: cloudwatch.Alarm;
  /** Fed by both dead-letter queues: runs the failed processes again, fires failed timers. */
  readonly redrive: Redrive;
  /** A function's environment and grants to run the processes (this one's, and the redrive's). */
  private readonly grantProcessRuns: (fn: AppFunction) => void;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { tracing, disposable } = props;
    const timeout = props.timeout ?? Duration.seconds(30);

    this.function = new AppFunction(this, 'Function', {
      entry: 'workflows',
      description: 'Event table stream and due timers -> process managers -> commands',
      eventTable: { table: props.eventTable, access: 'append' },
      commandTables: props.commandTables,
      projections: { table: props.projectionsTable, access: 'project' },
      timeout,
      tracing,
      disposable,
    });
    const fn = this.function.function;

    // A schedule's target is this function's ARN, which the function must read from its own
    // environment. `fn.functionArn` there would be a reference of the function to itself, a
    // circular dependency CloudFormation refuses. So the function gets a fixed name, built
    // from the stack's (unique per account and Region), and its ARN is formatted from that
    // name: a plain string, known before the function exists. (AppFunction takes no name: it is
    // set on the CloudFormation resource.)
    this.functionName = workflowsFunctionNameOf(stack.stackName);
    (fn.node.defaultChild as lambda.CfnFunction).functionName = this.functionName;
    const targetArn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: this.functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Its schedules only ever invoke this stack's function: they go with the stack.
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { scheduleGroupName, scheduleGroupArn } = this.scheduleGroup;
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      // Confused-deputy guard: only schedules of this group, in this account, may assume it.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': scheduleGroupArn,
          },
        },
      }),
      description: 'EventBridge Scheduler invokes the workflows function with a due process timer',
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
    const schedulesOfGroup = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${scheduleGroupName}/*`,
    });
    const schedulerRoleArn = this.schedulerRole.roleArn;
    this.grantProcessRuns = (runner: AppFunction) => {
      const allow = (
        actions: string[],
        resources: string[],
        conditions?: Record<string, unknown>,
      ) => runner.role.addToPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
      if (props.writeViewsWithEvents) {
        runner.function.addEnvironment(ENV.writeViewsWithEvents, 'true');
        // The aggregate's view is an Update inside the events' transaction (as the coupled API's).
        allow(['dynamodb:UpdateItem'], [props.projectionsTable.tableArn]);
      }
      // Timers: a step run again may set one (this function is what it invokes).
      runner.function.addEnvironment(ENV.timerScheduleGroup, scheduleGroupName);
      runner.function.addEnvironment(ENV.timerTargetArn, targetArn);
      runner.function.addEnvironment(ENV.timerRoleArn, schedulerRoleArn);
      allow(['scheduler:CreateSchedule'], [schedulesOfGroup]);
      allow(['iam:PassRole'], [schedulerRoleArn], {
        StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      });
      Validations.of(runner).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${scheduleGroupName}/*]`,
        reason:
          "CreateSchedule in this stack's timer group only: a schedule is named per timer at " +
          'run time, so the ARN ends in a wildcard.',
      });
    };
    this.grantProcessRuns(this.function);

    // --- The stream.
    const retryDelay = props.deadLetterRetryDelay ?? Duration.minutes(15);
    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetterQueue',
      'the workflows stream mapping',
      retryDelay,
    );
    this.eventSource = eventStreamSource(props.eventTable, this.deadLetterQueue, props);
    fn.addEventSource(this.eventSource);

    const threshold = props.iteratorAgeThreshold ?? Duration.seconds(60);
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription:
        `The workflows function is more than ${threshold.toHumanString()} behind the event ` +
        'stream: process steps (reservations, confirmations) are late (docs/operations/alarms.md)',
      metric: fn.metric('IteratorAge', {
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterAlarm = anyMessageAlarm(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      'A workflows batch failed every retry: its process steps did not run; the redrive runs ' +
        'them again once the cause is fixed (visible or in flight; docs/operations/runbooks.md, ' +
        '"A process step failed")',
    );

    // --- Timers (the schedule group and the scheduler role are above).
    // Scheduler invokes asynchronously: after Lambda's two retries a failed timer lands here,
    // the message body being the invocation's input (`{ processTimer }`), ready to invoke again.
    this.timerDeadLetterQueue = deadLetterQueue(
      this,
      'TimerDeadLetterQueue',
      'process timers',
      retryDelay,
    );
    (fn.node.defaultChild as lambda.CfnFunction).deadLetterConfig = {
      targetArn: this.timerDeadLetterQueue.queueArn,
    };
    this.function.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.timerDeadLetterQueue.queueArn],
      }),
    );
    this.timerDeadLetterAlarm = anyMessageAlarm(
      this,
      'TimerDeadLetterAlarm',
      this.timerDeadLetterQueue,
      'The workflows function failed on a due process timer; the redrive fires it again once ' +
        'the cause is fixed (visible or in flight; docs/operations/runbooks.md, ' +
        '"A process timer failed")',
    );
    this.droppedTimersAlarm = new cloudwatch.Alarm(this, 'DroppedTimersAlarm', {
      alarmDescription:
        'EventBridge Scheduler gave up invoking the workflows function for a due timer ' +
        '(docs/operations/runbooks.md, "A process timer failed")',
      metric: this.scheduleGroup.metricDropped({
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // --- Redrive: both dead-letter queues, back to the processes.
    this.redrive = new Redrive(this, 'Redrive', {
      deadLetterQueue: this.deadLetterQueue,
      eventTable: props.eventTable,
      projectionsTable: props.projectionsTable,
      processes: {
        commandTables: props.commandTables,
        grantProcessRuns: this.grantProcessRuns,
        timerDeadLetterQueue: this.timerDeadLetterQueue,
        timeout,
      },
      tracing,
      disposable,
    });
  }
}
