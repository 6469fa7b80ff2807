/**
 * The notifier function: the read-model table's stream (both stacks) -> a message to every
 * subscriber of each changed row. The pushed version is the row a query returns, on either
 * profile. Answers `batchItemFailures` only when the subscribers of a row could not be read; a
 * failed post never fails the batch (see createNotifier).
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
import * as z from 'zod';
import type { ChangedRow, NotifyOutcome } from '../core/push';

const rowSchema = z.looseObject({ id: z.string().min(1), version: z.number().int().min(1) });

/** A read-model row from a stream record, or undefined (a removal, or not a row). */
export const parseRowRecord = (record: DynamoDBRecord): ChangedRow | undefined => {
  if (record.eventName === 'REMOVE') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  try {
    const parsed = rowSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
    if (!parsed.success) return undefined;
    return { id: parsed.data.id, version: parsed.data.version, row: parsed.data };
  } catch {
    return undefined;
  }
};

export interface NotifierHandlerDependencies {
  readonly notify: (changes: readonly ChangedRow[]) => Promise<NotifyOutcome>;
  readonly logger: Logger;
}

export const createNotifierHandler =
  (deps: NotifierHandlerDependencies) =>
  async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) deps.logger.addContext(context);
    const parsed = event.Records.map((record, index) => ({
      id: record.dynamodb?.SequenceNumber ?? record.eventID ?? `#${index}`,
      change: parseRowRecord(record),
    }));
    const rows = parsed.filter((p) => p.change !== undefined);
    const outcome = await deps.notify(rows.map((p) => p.change!));
    deps.logger.info('Notified batch', { records: event.Records.length, ...outcome });
    const first = outcome.failedChanges[0];
    // Lambda retries from the first failed record; the ones before it are checkpointed.
    return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: rows[first]!.id }] };
  };
