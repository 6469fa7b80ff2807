/**
 * The projector Lambda: takes a DynamoDB stream event exactly as Lambda delivers it and
 * answers with `batchItemFailures` (ReportBatchItemFailures): the other orders of a batch are
 * applied around a poison record, though Lambda then retries its shard from that record.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { decodeEventItem } from '../core/events/dynamodb-event-store';
import { AppError } from '../core/shared/errors';
import { decodeEnvelope } from '../core/events/event-codec';
import { isOwnEventOfAny } from '../core/events/events';
import type { IncomingRecord, Projector } from '../core/projections/projector';

const ENVELOPE_KEYS = ['aggregateId', 'version', 'aggregateType'] as const;

const reasonOf = (error: unknown) =>
  error instanceof AppError
    ? `${error.message}: ${String(error.details.reason ?? '')}`
    : error instanceof Error
      ? error.message
      : String(error);

/**
 * A stream record through the event codec. The aggregate type is checked first: an event of a
 * type this deployment does not list is not validated (its shape is not ours to judge), only
 * its envelope is kept.
 */
export const parseStreamRecord = (
  record: DynamoDBRecord,
  index: number,
  aggregateTypes: readonly string[],
): IncomingRecord | undefined => {
  const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? `#${index}`;
  // The event table is append-only: only INSERTs carry events.
  if (record.eventName !== 'INSERT') return undefined;
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (!image) return { id, invalid: 'no NewImage (is the stream view NEW_IMAGE?)' };
  try {
    const head = Object.fromEntries(
      ENVELOPE_KEYS.flatMap((k) => (image[k] ? [[k, image[k]] as const] : [])),
    );
    const envelope = decodeEnvelope(unmarshall(head));
    const type = image.type?.S;
    if (!isOwnEventOfAny(aggregateTypes, { ...envelope, type })) {
      return { id, foreign: { ...envelope, ...(type !== undefined && { type }) } };
    }
    return { id, event: decodeEventItem(image) };
  } catch (error) {
    return { id, invalid: reasonOf(error) };
  }
};

export interface ProjectorHandlerDependencies {
  readonly project: Projector;
  readonly logger: Logger;
  /** The deployment's aggregate types: their events are decoded, others kept as envelopes. */
  readonly aggregateTypes: readonly string[];
}

export const createProjectorHandler =
  (deps: ProjectorHandlerDependencies) =>
  async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    // A logger of this invocation: concurrent invocations (locally) never share its keys.
    const logger = deps.logger.createChild();
    if (context) logger.addContext(context);
    const records = event.Records.map((r, i) =>
      parseStreamRecord(r, i, deps.aggregateTypes),
    ).filter((r) => r !== undefined);
    const outcome = await deps.project(records, logger);
    logger.info('Projected batch', {
      // A batch mixes commands: the summary names every correlation id it carried.
      correlationIds: [
        ...new Set(records.flatMap((r) => ('event' in r ? [r.event.correlationId] : []))),
      ],
      records: event.Records.length,
      applied: outcome.applied,
      failed: outcome.failed.length,
    });
    return { batchItemFailures: outcome.failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
