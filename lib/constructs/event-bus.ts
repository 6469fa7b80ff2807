/**
 * Domain events on an Amazon EventBridge bus, for other services (docs/reference/event-bus.md):
 *
 *   event table stream -> EventBridge Pipe (INSERTs only) -> enrichment function -> the bus
 *                                                                    -> rule -> sample consumer
 *
 * - The pipe filters (`eventName: INSERT`), so the enrichment function is invoked for events
 *   only. The enrichment is code the service cannot spare us: the stored payload is a DynamoDB
 *   map (`{"M": ...}`) that a pipe's input template cannot unmarshal, and old payloads must be
 *   upcast by the one event codec (docs/decisions/event-bus-through-pipes.md).
 * - Source settings (BUS_PIPE_SETTINGS, shared with the local bus): TRIM_HORIZON, batches of
 *   10 (a PutEvents call), one batch per shard at a time, bounded retries with bisection, a
 *   maximum record age, then the dead-letter queue, whose visible messages raise an alarm.
 * - The target sets `Source` (one per stack), `DetailType` from the envelope's `type` and `Time`
 *   from its `occurredAt` (the pipe's dynamic path parameters).
 * - The sample consumer: a rule on this stack's source and the deployment's event types ->
 *   a function that deduplicates on `eventId` (Powertools idempotency, its own table). What
 *   EventBridge cannot deliver, and what the function fails on after Lambda's asynchronous
 *   retries, go to the consumer's dead-letter queue, alarmed too.
 * - The pipe role may read this stream, invoke the enrichment, put events on this bus, send to
 *   the DLQ and write its error log: nothing else. The pipe logs at ERROR, without event data.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { busSourceOf } from '../../lambdas/core/events/bus-envelope';
import { BUS_ENV, BUS_PIPE_SETTINGS } from '../../lambdas/handlers/bus-wiring';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import {
  SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS,
  SAMPLE_CONSUMER_TABLE,
} from '../../lambdas/handlers/sample-consumer';
import { AppFunction } from './app-function';

export interface EventBusProps {
  /** The event table; it must have a stream (EventTable `stream: true`, NEW_IMAGE). */
  readonly eventTable: dynamodb.ITableV2;
  /** The stack's name in the events' `Source`: `redux-backend.<stack>`. */
  readonly stackName: 'decoupled' | 'coupled';
  /**
   * The event types the sample consumer's rule matches, as `detail-type` prefixes.
   * @default every aggregate of the deployment (`<type>/`)
   */
  readonly sampleConsumerTypePrefixes?: readonly string[];
  readonly tracing?: boolean;
  readonly disposable?: boolean;
}

/** A dead-letter queue: encrypted, TLS only, 14 days; alarmed rather than dead-lettered again. */
const deadLetterQueue = (scope: Construct, id: string, what: string) => {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
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

/** Fires on the first visible message: nobody consumes these queues but an operator. */
const visibleMessagesAlarm = (
  scope: Construct,
  id: string,
  queue: sqs.Queue,
  description: string,
) =>
  new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

export class EventBus extends Construct {
  readonly bus: events.EventBus;
  /** `redux-backend.<stack>`: the `source` of every event this stack publishes. */
  readonly source: string;
  readonly enrichmentFunction: AppFunction;
  readonly pipe: pipes.CfnPipe;
  readonly pipeRole: iam.Role;
  readonly pipeLogGroup: logs.LogGroup;
  /** Stream batches the pipe could not publish after its retries (stream coordinates). */
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly sampleConsumerRule: events.Rule;
  readonly sampleConsumerFunction: AppFunction;
  /** The sample consumer's idempotency records (eventId -> its answer), expiring. */
  readonly idempotencyTable: dynamodb.TableV2;
  /** Events EventBridge could not deliver to the consumer, or that it failed on. */
  readonly sampleConsumerDeadLetterQueue: sqs.Queue;
  readonly sampleConsumerDeadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const { tracing, disposable } = props;
    const streamArn = props.eventTable.tableStreamArn;
    if (!streamArn) throw new Error('EventBus needs the event table stream');
    this.source = busSourceOf(props.stackName);

    this.bus = new events.EventBus(this, 'Bus', {
      description: `Domain events of the ${props.stackName} stack (source ${this.source})`,
    });

    this.enrichmentFunction = new AppFunction(this, 'EnrichmentFunction', {
      entry: 'bus-enrichment',
      description: 'Event bus pipe: stream records -> decoded, upcast event envelopes',
      tracing,
      disposable,
    });
    this.enrichmentFunction.function.addEnvironment(BUS_ENV.source, this.source);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', 'the event bus pipe');
    this.deadLetterAlarm = visibleMessagesAlarm(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      'The event bus pipe gave up on a stream batch: its events did not reach the bus ' +
        '(docs/operations/alarms.md)',
    );

    this.pipeLogGroup = new logs.LogGroup(this, 'PipeLogGroup', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.pipeRole = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Execution role of the event bus pipe',
    });
    const allow = (actions: string[], resources: string[]) =>
      this.pipeRole.addToPolicy(new iam.PolicyStatement({ actions, resources }));
    allow(
      [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ],
      [streamArn],
    );
    allow(['lambda:InvokeFunction'], [this.enrichmentFunction.function.functionArn]);
    allow(['events:PutEvents'], [this.bus.eventBusArn]);
    allow(['sqs:SendMessage'], [this.deadLetterQueue.queueArn]);
    allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [this.pipeLogGroup.logGroupArn]);

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: `Event table stream -> ${this.source} events`,
      roleArn: this.pipeRole.roleArn,
      source: streamArn,
      sourceParameters: {
        filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
        dynamoDbStreamParameters: {
          startingPosition: BUS_PIPE_SETTINGS.startingPosition,
          batchSize: BUS_PIPE_SETTINGS.batchSize,
          parallelizationFactor: BUS_PIPE_SETTINGS.parallelizationFactor,
          maximumRetryAttempts: BUS_PIPE_SETTINGS.maxRetries,
          maximumRecordAgeInSeconds: BUS_PIPE_SETTINGS.maxRecordAgeSeconds,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        },
      },
      enrichment: this.enrichmentFunction.function.functionArn,
      target: this.bus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: {
          source: this.source,
          // Dynamic path parameters: read from each element the enrichment returned.
          detailType: '$.type',
          time: '$.occurredAt',
        },
      },
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: { logGroupArn: this.pipeLogGroup.logGroupArn },
      },
    });
    // The role's policy must exist before the pipe starts reading with it.
    this.pipe.node.addDependency(this.pipeRole);

    // The sample consumer.
    this.idempotencyTable = new dynamodb.TableV2(this, 'IdempotencyTable', {
      partitionKey: {
        name: SAMPLE_CONSUMER_TABLE.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      timeToLiveAttribute: SAMPLE_CONSUMER_TABLE.expiryAttribute,
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      // Two days of eventIds, rebuilt by use: deleted with the stack, no PITR.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.sampleConsumerFunction = new AppFunction(this, 'SampleConsumerFunction', {
      entry: 'sample-consumer',
      description: 'Sample event bus consumer: handles each domain event once (by eventId)',
      tracing,
      disposable,
    });
    const consumer = this.sampleConsumerFunction;
    consumer.function.addEnvironment(BUS_ENV.idempotencyTable, this.idempotencyTable.tableName);
    // Powertools idempotency: read a record, put it (conditionally), update it with the answer,
    // delete it when the handler failed.
    consumer.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [this.idempotencyTable.tableArn],
      }),
    );
    this.sampleConsumerDeadLetterQueue = deadLetterQueue(
      this,
      'SampleConsumerDeadLetterQueue',
      'the sample consumer',
    );
    this.sampleConsumerDeadLetterAlarm = visibleMessagesAlarm(
      this,
      'SampleConsumerDeadLetterAlarm',
      this.sampleConsumerDeadLetterQueue,
      'The sample consumer did not handle an event: EventBridge could not deliver it, or the ' +
        'function failed on it after its retries (docs/operations/alarms.md)',
    );
    // EventBridge invokes the function asynchronously: what fails after Lambda's two retries
    // goes to the queue too, with the error.
    consumer.function.configureAsyncInvoke({
      onFailure: new SqsDestination(this.sampleConsumerDeadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    const deliveryAge = Duration.hours(24);
    // The latest a copy can come (the pipe's record age, then EventBridge's retries): the
    // consumer must still remember the eventId then.
    if (
      BUS_PIPE_SETTINGS.maxRecordAgeSeconds + deliveryAge.toSeconds() >
      SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS
    ) {
      throw new Error('The sample consumer forgets eventIds before their last redelivery');
    }
    const prefixes =
      props.sampleConsumerTypePrefixes ?? AGGREGATES.map((aggregate) => `${aggregate.type}/`);
    this.sampleConsumerRule = new events.Rule(this, 'SampleConsumerRule', {
      eventBus: this.bus,
      description: `Sample consumer: ${prefixes.join(', ')} events of ${this.source}`,
      eventPattern: {
        source: [this.source],
        detailType: events.Match.anyOf(...prefixes.map((prefix) => events.Match.prefix(prefix))),
      },
      targets: [
        new targets.LambdaFunction(consumer.function, {
          deadLetterQueue: this.sampleConsumerDeadLetterQueue,
          retryAttempts: 8,
          maxEventAge: deliveryAge,
        }),
      ],
    });
  }
}
