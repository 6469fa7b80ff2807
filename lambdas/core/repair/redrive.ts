/**
 * What a failure of a stream consumer names (the projector's, or the workflows function's),
 * whoever recorded it (docs/decisions/redrive.md):
 *
 * - Lambda's on-failure record for a DynamoDB stream (the SQS dead-letter message in AWS, a line
 *   of the local on-failure file): `DDBStreamBatchInfo` gives the shard and the first and last
 *   sequence numbers of the batch, never a key. The local poller adds the records themselves;
 *   in AWS they are read back from the stream while it still holds them (24 hours). After
 *   that, the message names nothing that can be resolved: no code can repair it (the redrive
 *   function reports it as unrepairable and an alarm fires; lambdas/handlers/redrive.ts).
 * - An operator's message (or a line of the local file): the way back for a batch the stream no
 *   longer holds. `{ "aggregateIds": [...] }`, with the ids of the projector's "Projection
 *   failed" log lines, or `{ "events": [{ "aggregateId": ..., "version": ... }] }`, with the ids
 *   and versions of the workflows function's "Process failed" lines (a process re-runs from
 *   there; a re-projection needs only the id). Nothing writes one automatically: neither
 *   redrive rewrites a message (the local one appends the unrepaired lines back as they were).
 * - A process timer the workflows function failed on (`{ "processTimer": ... }`, the input of
 *   the invocation, which Lambda sends to the timer dead-letter queue as it was).
 *
 * Pure: parsing only. The readers of the queue, the file and the stream are adapters.
 */
import { EVENT_TABLE } from '../shared/schema';
import type { ProcessTimer } from '../workflows/process-runner';

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
  readonly dynamodb?: {
    readonly Keys?: Record<string, { readonly S?: string; readonly N?: string } | undefined>;
  };
}

/** Per aggregate, the first version a failure names (where it names versions). */
export type FirstVersions = Readonly<Record<string, number>>;

export type FailureMessage =
  | {
      readonly kind: 'stream-batch';
      readonly batch: StreamBatchInfo;
      /** Present in the local on-failure file only. */
      readonly records?: readonly KeyedRecord[];
    }
  | {
      readonly kind: 'aggregates';
      readonly aggregateIds: readonly string[];
      /** From an `events` message: where each aggregate's processes re-run from. */
      readonly firstVersions?: FirstVersions;
    }
  | { readonly kind: 'timer'; readonly timer: ProcessTimer }
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

/**
 * The lowest version each aggregate has among `records` (their `version` keys): where a re-run
 * of its processes starts. An aggregate whose records carry no version is left out.
 */
export const firstVersionsOf = (records: readonly KeyedRecord[]): Record<string, number> => {
  const first: Record<string, number> = {};
  for (const record of records) {
    const keys = record.dynamodb?.Keys;
    const id = keys?.[EVENT_TABLE.partitionKey.name]?.S;
    const version = Number(keys?.[EVENT_TABLE.sortKey.name]?.N);
    if (!id || !Number.isSafeInteger(version) || version < 1) continue;
    first[id] = Math.min(version, first[id] ?? Infinity);
  }
  return first;
};

/** `a` and `b` together, the lower version where both name an aggregate. */
export const mergeFirstVersions = (a: FirstVersions, b: FirstVersions): Record<string, number> => {
  const merged: Record<string, number> = { ...a };
  for (const [id, version] of Object.entries(b)) {
    merged[id] = Math.min(version, merged[id] ?? Infinity);
  }
  return merged;
};

const TIMER_FIELDS = ['id', 'manager', 'processKey', 'name', 'dueAt', 'correlationId'] as const;

/** `{ "events": [{ "aggregateId": "order-1", "version": 3 }, ...] }`: ids and first versions. */
const parseEvents = (events: unknown[]): FailureMessage => {
  const firstVersions: Record<string, number> = {};
  for (const event of events) {
    if (
      !isObject(event) ||
      typeof event.aggregateId !== 'string' ||
      !event.aggregateId ||
      !Number.isSafeInteger(event.version) ||
      (event.version as number) < 1
    ) {
      return {
        kind: 'unreadable',
        reason: 'events must be { "aggregateId": string, "version": positive integer }',
      };
    }
    const id = event.aggregateId;
    firstVersions[id] = Math.min(event.version as number, firstVersions[id] ?? Infinity);
  }
  if (events.length === 0) return { kind: 'unreadable', reason: 'events is empty' };
  return { kind: 'aggregates', aggregateIds: Object.keys(firstVersions), firstVersions };
};

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
  if (Array.isArray(parsed.events)) return parseEvents(parsed.events);
  if (isObject(parsed.processTimer)) {
    const timer = parsed.processTimer;
    if (TIMER_FIELDS.every((field) => typeof timer[field] === 'string' && timer[field] !== '')) {
      return { kind: 'timer', timer: timer as unknown as ProcessTimer };
    }
    return { kind: 'unreadable', reason: `processTimer must have ${TIMER_FIELDS.join(', ')}` };
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
    reason:
      'neither a DynamoDB stream on-failure record, { "aggregateIds": [...] }, ' +
      '{ "events": [...] } nor { "processTimer": ... }',
  };
};

/** Whether a stream sequence number lies after `end` (they are decimal strings of any length). */
export const sequenceAfter = (sequence: string, end: string): boolean =>
  BigInt(sequence) > BigInt(end);
