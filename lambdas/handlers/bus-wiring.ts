/**
 * The event bus's functions built from their environment (as wiring.ts does for the others):
 * the pipe's enrichment function and the sample consumer. The Lambda entry points call these at
 * cold start; the local runtime calls the enrichment one with its own environment, so both run
 * the same code. Also the pipe's settings, read by the CDK construct (lib/constructs/event-bus.ts)
 * and mirrored by the local bus poller (local/emulators/event-bus.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { DYNAMODB_TIMEOUTS } from '../core/shared/dynamodb-limits';
import { AGGREGATES } from './deployment';
import { createBusEnrichmentHandler } from './bus-enrichment';
import { ENV, type Environment, requireEnv } from './environment';
import { createSampleConsumerHandler, type SampleConsumerDependencies } from './sample-consumer';

/** The variables the event bus's functions read (beside ENV's DYNAMODB_ENDPOINT, locally). */
export const BUS_ENV = {
  /** The `Source` the pipe publishes with, e.g. `redux-backend.decoupled` (enrichment). */
  source: 'EVENT_BUS_SOURCE',
  /** The sample consumer's idempotency table. */
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
} as const;

/**
 * The pipe's source settings (event table stream -> enrichment -> bus), in AWS and locally.
 * - batchSize 10: PutEvents takes at most 10 entries.
 * - TRIM_HORIZON: a new pipe publishes what the stream still holds (24 h) rather than skipping it.
 * - parallelization 1: one batch per shard at a time, so an aggregate's events reach the bus in
 *   version order (EventBridge then delivers them in no guaranteed order).
 * - bounded retries with bisection, then the dead-letter queue; a record older than the maximum
 *   age goes there too, while the stream can still give it back.
 */
export const BUS_PIPE_SETTINGS = {
  batchSize: 10,
  startingPosition: 'TRIM_HORIZON',
  parallelizationFactor: 1,
  maxRetries: 10,
  maxRecordAgeSeconds: 6 * 3600,
  bisectOnError: true,
} as const;

export interface BusWiringOptions {
  readonly logger?: Logger;
}

/** The pipe's enrichment: stream records -> envelopes for the `Source` EVENT_BUS_SOURCE. */
export const busEnrichmentHandlerFromEnv = (env: Environment, options: BusWiringOptions = {}) =>
  createBusEnrichmentHandler({
    logger: options.logger ?? new Logger({ serviceName: 'bus-enrichment' }),
    aggregateTypes: AGGREGATES.map((aggregate) => aggregate.type),
    source: requireEnv(env, BUS_ENV.source),
  });

/** The sample consumer over its idempotency table (IDEMPOTENCY_TABLE_NAME). */
export const sampleConsumerHandlerFromEnv = (
  env: Environment,
  options: BusWiringOptions & Pick<SampleConsumerDependencies, 'onEvent'> = {},
) => {
  const endpoint = env[ENV.dynamoDbEndpoint];
  const client = new DynamoDBClient({
    requestHandler: DYNAMODB_TIMEOUTS,
    ...(endpoint && {
      endpoint,
      region: env.AWS_REGION ?? 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  return createSampleConsumerHandler({
    logger: options.logger ?? new Logger({ serviceName: 'sample-consumer' }),
    persistence: new DynamoDBPersistenceLayer({
      tableName: requireEnv(env, BUS_ENV.idempotencyTable),
      awsSdkV3Client: client,
    }),
    onEvent: options.onEvent,
  });
};
