/**
 * The notifier function: the stream of the projections table (both stacks), where every
 * collection's view is stored -> a message to every subscriber of each changed row of a pushed
 * view. The pushed version is the row a query returns, on either profile. A row whose writer
 * posted it itself (the coupled function, the projector: PUSHED_BY_ATTRIBUTE) is not posted
 * again; what this function still pushes is every other write: a rebuild's, a redrive's, a
 * process manager's command, an operator's (docs/decisions/push-from-the-writer.md). Answers
 * `batchItemFailures` only when the subscribers of a row could not be read; a failed post never
 * fails the batch (see createNotifier).
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
import {
  type ChangedRow,
  changedRowOf,
  type NotifyOutcome,
  PUSHED_BY_ATTRIBUTE,
  type PushedView,
} from '../core/push/push';
import { storageName } from '../core/projections/row-projection';

const itemSchema = z.looseObject({
  key: z.string(),
  view: z.unknown(),
  applied: z.record(z.string(), z.number().int().min(1)),
  [PUSHED_BY_ATTRIBUTE]: z.string().optional(),
});

/** A declared projection pushed as a view: one row per aggregate, keyed by its id. */
export interface PushedProjection {
  readonly projection: {
    readonly name: string;
    readonly version: number;
    /** Who may be pushed its rows (checked per subscriber, per push). */
    readonly canRead?: PushedView['canRead'];
  };
  /** A row kept for a deleted aggregate: pushed as `<name>/deleted`. @default none is */
  readonly isDeleted?: (row: never) => boolean;
}

/** The views whose rows are pushed. */
export interface PushedRows {
  /** Items of the projections table (`<name>@v<version>#<id>`, `applied[id]` its version). */
  readonly projections: readonly PushedProjection[];
}

const projectionRow = (pushed: PushedRows, item: z.infer<typeof itemSchema>) => {
  for (const { projection, isDeleted } of pushed.projections) {
    const prefix = `${storageName(projection)}#`;
    if (!item.key.startsWith(prefix)) continue;
    const id = item.key.slice(prefix.length);
    const version = item.applied[id];
    if (version === undefined) return undefined;
    const pushedBy = item[PUSHED_BY_ATTRIBUTE];
    return {
      ...changedRowOf(projection, id, version, item.view, isDeleted),
      ...(pushedBy !== undefined && { pushedBy }),
    } satisfies ChangedRow;
  }
  return undefined;
};

/**
 * The changed row of a stream record, or undefined (a removal, an item of a view that is not
 * pushed, or not a row at all).
 */
export const rowRecordParser =
  (pushed: PushedRows) =>
  (record: DynamoDBRecord): ChangedRow | undefined => {
    if (record.eventName === 'REMOVE') return undefined;
    const image = record.dynamodb?.NewImage;
    if (!image) return undefined;
    try {
      const item = unmarshall(image as Record<string, AttributeValue>);
      const stored = itemSchema.safeParse(item);
      return stored.success ? projectionRow(pushed, stored.data) : undefined;
    } catch {
      return undefined;
    }
  };

export interface NotifierHandlerDependencies {
  readonly parse: (record: DynamoDBRecord) => ChangedRow | undefined;
  readonly notify: (changes: readonly ChangedRow[]) => Promise<NotifyOutcome>;
  readonly logger: Logger;
}

export const createNotifierHandler =
  (deps: NotifierHandlerDependencies) =>
  async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) deps.logger.addContext(context);
    const parsed = event.Records.map((record, index) => ({
      id: record.dynamodb?.SequenceNumber ?? record.eventID ?? `#${index}`,
      change: deps.parse(record),
    }));
    const rows = parsed.filter((p) => p.change !== undefined);
    const outcome = await deps.notify(rows.map((p) => p.change!));
    deps.logger.info('Notified batch', { records: event.Records.length, ...outcome });
    const first = outcome.failedChanges[0];
    // Lambda retries from the first failed record; the ones before it are checkpointed.
    return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: rows[first]!.id }] };
  };
