/**
 * A sample consumer of the event bus: what another team's service looks like. An EventBridge
 * rule invokes it with each order event (lib/constructs/event-bus.ts); it checks the envelope
 * against the published schema and handles each domain event once.
 *
 * Delivery is at least once (the pipe retries a batch, EventBridge retries a target, a stream
 * record may be read twice), and a redelivery is a new EventBridge event with a new `id`: so it
 * deduplicates on the envelope's `eventId`, with Powertools idempotency on a DynamoDB table
 * (docs/decisions/event-bus-through-pipes.md). A second delivery returns the first answer and
 * does nothing.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { type BusEnvelope, busEnvelopeSchema } from '../core/events/bus-envelope';

/** The idempotency table: Powertools' default key and expiry attributes. */
export const SAMPLE_CONSUMER_TABLE = {
  partitionKey: 'id',
  /** Epoch seconds; DynamoDB's TTL deletes expired records. */
  expiryAttribute: 'expiration',
} as const;

/**
 * How long an eventId is remembered. A copy can come as late as the pipe's maximum record age
 * (6 hours) plus EventBridge's retries of the target (24 hours): two days covers both.
 */
export const SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS = 2 * 24 * 3600;

/** What the handler answers (and what a duplicate delivery gets back, from the table). */
export type SampleConsumerResult =
  | { readonly outcome: 'handled'; readonly eventId: string }
  | { readonly outcome: 'skipped'; readonly reason: string };

export interface SampleConsumerDependencies {
  readonly logger: Logger;
  /** Where the idempotency records live (DynamoDBPersistenceLayer in AWS). */
  readonly persistence: BasePersistenceLayer;
  /** The consumer's own work, once per event; default: logs what it received. */
  readonly onEvent?: (envelope: BusEnvelope, logger: Logger) => Promise<void>;
}

const logReceived = async (envelope: BusEnvelope, logger: Logger) => {
  logger.info('Received a domain event', {
    eventId: envelope.eventId,
    type: envelope.type,
    aggregateId: envelope.aggregateId,
    version: envelope.version,
    causationId: envelope.causationId,
    actor: envelope.actor,
    payloadOmitted: envelope.payloadOmitted !== undefined,
  });
};

export type SampleConsumerHandler = (
  event: EventBridgeEvent<string, unknown>,
  context: Context,
) => Promise<SampleConsumerResult>;

export const createSampleConsumerHandler = (
  deps: SampleConsumerDependencies,
): SampleConsumerHandler => {
  const onEvent = deps.onEvent ?? logReceived;
  const handle = async (
    event: EventBridgeEvent<string, unknown>,
    context: Context,
  ): Promise<SampleConsumerResult> => {
    const logger = deps.logger.createChild();
    logger.addContext(context);
    const parsed = busEnvelopeSchema.safeParse(event.detail);
    if (!parsed.success) {
      // Retrying cannot fix a shape: log it and answer, so it is not retried for a day.
      const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      logger.error('Not a version 1 envelope', { eventBridgeId: event.id, reason });
      return { outcome: 'skipped', reason };
    }
    logger.appendKeys({ correlationId: parsed.data.correlationId });
    await onEvent(parsed.data, logger);
    return { outcome: 'handled', eventId: parsed.data.eventId };
  };
  return makeIdempotent(handle, {
    persistenceStore: deps.persistence,
    config: new IdempotencyConfig({
      eventKeyJmesPath: 'detail.eventId',
      expiresAfterSeconds: SAMPLE_CONSUMER_KEY_LIFETIME_SECONDS,
      // No eventId, no dedupe: the envelope check above answers such an event instead.
      throwOnNoIdempotencyKey: false,
    }),
  });
};
