/**
 * What a projection failure names, whoever recorded it (docs/decisions/redrive.md):
 *
 * - Lambda's on-failure record for a DynamoDB stream (the SQS dead-letter message in AWS, a line
 *   of the local on-failure file): `DDBStreamBatchInfo` gives the shard and the first and last
 *   sequence numbers of the batch, never a key. The local poller adds the records themselves;
 *   in AWS they are read back from the stream while it still holds them (24 hours). After
 *   that, the message names nothing that can be resolved: no code can repair it (the redrive
 *   function reports it as unrepairable and an alarm fires; lambdas/handlers/redrive.ts).
 * - An operator's message, `{ "aggregateIds": [...] }` (or a line of the local file): the way
 *   back for a batch the stream no longer holds, with the ids of the projector's "Projection
 *   failed" log lines. Nothing writes one automatically: neither redrive rewrites a message
 *   (the local one appends the unrepaired lines back as they were).
 *
 * Pure: parsing only. The readers of the queue, the file and the stream are adapters.
 */
import { EVENT_TABLE } from '../shared/schema';

/** Lambda's `DDBStreamBatchInfo` (services-dynamodb-errors.html). */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly streamArn: string;
  readonly batchSize?: number;
  readonly approximateArrivalOfFirstRecord?: string;
  readonly approximateArrivalOfLastRecord?: string;
}

/** A stream record as Lambda carries it: only the keys matter here. */
export interface KeyedRecord {
  readonly dynamodb?: { readonly Keys?: Record<string, { readonly S?: string } | undefined> };
}

export type FailureMessage =
  | {
      readonly kind: 'stream-batch';
      readonly batch: StreamBatchInfo;
      /** Present in the local on-failure file only. */
      readonly records?: readonly KeyedRecord[];
    }
  | { readonly kind: 'aggregates'; readonly aggregateIds: readonly string[] }
  | { readonly kind: 'unreadable'; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The aggregate ids a batch of stream records names, each once, in order. */
export const aggregateIdsOf = (records: readonly KeyedRecord[]): string[] => [
  ...new Set(
    records.flatMap((r) => {
      const id = r.dynamodb?.Keys?.[EVENT_TABLE.partitionKey.name]?.S;
      return id ? [id] : [];
    }),
  ),
];

/** Reads one failure message (an SQS body or a line of the on-failure file). */
export const parseFailureMessage = (body: string): FailureMessage => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: 'not JSON' };
  }
  if (!isObject(parsed)) return { kind: 'unreadable', reason: 'not a JSON object' };
  if (Array.isArray(parsed.aggregateIds)) {
    const ids = parsed.aggregateIds.filter((id): id is string => typeof id === 'string' && !!id);
    if (ids.length === 0 || ids.length !== parsed.aggregateIds.length) {
      return { kind: 'unreadable', reason: 'aggregateIds must be non-empty strings' };
    }
    return { kind: 'aggregates', aggregateIds: [...new Set(ids)] };
  }
  const info = parsed.DDBStreamBatchInfo;
  if (
    isObject(info) &&
    typeof info.shardId === 'string' &&
    typeof info.startSequenceNumber === 'string' &&
    typeof info.endSequenceNumber === 'string' &&
    typeof info.streamArn === 'string'
  ) {
    const records = Array.isArray(parsed.records) ? (parsed.records as KeyedRecord[]) : undefined;
    return {
      kind: 'stream-batch',
      batch: info as unknown as StreamBatchInfo,
      ...(records && { records }),
    };
  }
  return {
    kind: 'unreadable',
    reason: 'neither a DynamoDB stream on-failure record nor { "aggregateIds": [...] }',
  };
};

/** Whether a stream sequence number lies after `end` (they are decimal strings of any length). */
export const sequenceAfter = (sequence: string, end: string): boolean =>
  BigInt(sequence) > BigInt(end);
