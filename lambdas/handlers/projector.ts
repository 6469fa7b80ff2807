/**
 * The projector Lambda: takes a DynamoDB stream event exactly as Lambda delivers it and
 * answers with `batchItemFailures` (ReportBatchItemFailures), so a poison record neither
 * blocks nor loses the others.
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
import { z } from 'zod';
import type { StoredEvent } from '../core/events';
import type { IncomingRecord, Projector } from '../core/projector';

/** Runtime check of an event-table item (the stream image is untrusted input). */
export const storedEventSchema = z.object({
  aggregateId: z.string().min(1),
  version: z.number().int().min(1),
  aggregateType: z.string().min(1),
  type: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  eventId: z.string().min(1),
  occurredAt: z.string().min(1),
  commandId: z.string(),
  commandHash: z.string(),
  correlationId: z.string(),
  causationId: z.string(),
});

export const parseStreamRecord = (
  record: DynamoDBRecord,
  index: number,
): IncomingRecord | undefined => {
  const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? `#${index}`;
  // The event table is append-only: only INSERTs carry events.
  if (record.eventName !== 'INSERT') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return { id, invalid: 'no NewImage (is the stream view NEW_IMAGE?)' };
  try {
    const parsed = storedEventSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
    if (parsed.success) return { id, event: parsed.data as StoredEvent };
    return {
      id,
      invalid: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  } catch (error) {
    return { id, invalid: error instanceof Error ? error.message : String(error) };
  }
};

export interface ProjectorHandlerDependencies {
  readonly project: Projector;
  readonly logger: Logger;
}

export const createProjectorHandler =
  (deps: ProjectorHandlerDependencies) =>
  async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) deps.logger.addContext(context);
    const records = event.Records.map(parseStreamRecord).filter((r) => r !== undefined);
    const outcome = await deps.project(records);
    deps.logger.info('Projected batch', {
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
