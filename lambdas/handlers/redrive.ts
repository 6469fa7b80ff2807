/**
 * The redrive function (AWS): fed by the projector's dead-letter queue (an SQS event source),
 * it turns each message into a re-projection of the aggregates it names, from the event table.
 *
 * A message is Lambda's on-failure record of a stream batch (coordinates only: the records are
 * read back from the stream, which holds them 24 hours) or `{ "aggregateIds": [...] }` (sent by
 * an operator). A message whose aggregates were all re-projected is deleted (a success); any
 * other is reported in `batchItemFailures`, so it stays in the queue and is retried after the
 * queue's visibility timeout: a redrive that failed because the bug is still there succeeds once
 * the fix is deployed. Every resolution logs the aggregate ids, which outlive the stream.
 *
 * Nothing is ever put back or rewritten: a message stays as Lambda (or the operator) wrote it.
 * A batch the stream no longer holds (trimmed after its 24-hour retention, or its shard gone)
 * cannot be repaired here at all, now or later: its message names no aggregate, only stream
 * positions that no longer exist. The function says so in one ERROR line marked
 * `redriveOutcome: "unrepairable"` (UNREPAIRABLE below), which a metric filter counts and an
 * alarm watches (lib/constructs/redrive.ts), and leaves the message in the queue, so the alarm
 * stays on at each retry until an operator has re-projected the aggregates by id (from the
 * projector's "Projection failed" lines) or rebuilt the declared projections, and deleted the
 * message (docs/operations/redrive.md).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StreamBatchReader } from '../core/repair/dynamodb-stream-reader';
import { aggregateIdsOf, parseFailureMessage } from '../core/repair/redrive';
import type { Reprojector } from '../core/repair/reproject';

/**
 * The mark of the log line of a message that can never be repaired from the stream: the metric
 * filter of lib/constructs/redrive.ts matches `{ $.<field> = "<value>" }`.
 */
export const UNREPAIRABLE = { field: 'redriveOutcome', value: 'unrepairable' } as const;

/** What the operator does instead, in the unrepairable line itself. */
export const UNREPAIRABLE_ADVICE =
  'The stream no longer holds this batch (older than its 24-hour retention, or its shard is ' +
  'gone): it cannot be read back, and retrying will not help. Re-project its aggregates by id ' +
  'instead: the projector logged each as "Projection failed" with aggregateId (around ' +
  'approximateArrivalOfFirstRecord..LastRecord, up to 6 hours later); run npm run reproject ' +
  'against the tables or send {"aggregateIds":[...]} to this queue; or rebuild the declared ' +
  'projections (RebuildStateMachineArn). Then delete this message: it stays in the queue and ' +
  'alarms until then (docs/operations/redrive.md).';

export interface RedriveHandlerDependencies {
  readonly reproject: Reprojector;
  readonly stream: StreamBatchReader;
  readonly logger: Logger;
}

export const createRedriveHandler = (deps: RedriveHandlerDependencies) => {
  /** True when every aggregate the message names was re-projected (the message is done). */
  const redriveOne = async (messageId: string, body: string, log: Logger): Promise<boolean> => {
    const parsed = parseFailureMessage(body);
    let aggregateIds: readonly string[];
    if (parsed.kind === 'unreadable') {
      log.error('Redrive: unreadable message (left in the queue)', {
        messageId,
        reason: parsed.reason,
      });
      return false;
    } else if (parsed.kind === 'aggregates') {
      aggregateIds = parsed.aggregateIds;
    } else if (parsed.records) {
      aggregateIds = aggregateIdsOf(parsed.records);
    } else {
      const read = await deps.stream.recordsOf(parsed.batch);
      if ('unavailable' in read) {
        log.error('Redrive: unrepairable, the stream no longer holds this batch', {
          messageId,
          [UNREPAIRABLE.field]: UNREPAIRABLE.value,
          ...parsed.batch,
          unavailable: read.unavailable,
          reason: read.reason,
          advice: UNREPAIRABLE_ADVICE,
        });
        return false;
      }
      aggregateIds = aggregateIdsOf(read.records);
      if (aggregateIds.length === 0) {
        // Never delete a message for a batch that read back as nothing: retry it later.
        log.error('Redrive: the stream gave no record of this batch (left in the queue)', {
          messageId,
          ...parsed.batch,
        });
        return false;
      }
    }
    log.info('Redrive: re-projecting', { messageId, aggregateIds });
    const results = await deps.reproject(aggregateIds);
    const notDone = results.filter((r) => r.status === 'failed');
    if (notDone.length > 0) {
      log.error('Redrive: re-projection failed; the message stays in the queue', {
        messageId,
        failedAggregateIds: notDone.map((r) => r.aggregateId),
        errors: notDone.map((r) => (r.status === 'failed' ? r.error : '')),
      });
      return false;
    }
    log.info('Redrive: repaired', { messageId, aggregates: results.length });
    return true;
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const log = deps.logger.createChild();
    if (context) log.addContext(context);
    const failed: string[] = [];
    for (const message of event.Records) {
      // One message's error (a throttled read, a bad coordinate) fails that message only.
      const ok = await redriveOne(message.messageId, message.body, log).catch((error: unknown) => {
        log.error('Redrive: failed; the message stays in the queue', {
          messageId: message.messageId,
          error: error instanceof Error ? error.message : String(error),
        });
        return false;
      });
      if (!ok) failed.push(message.messageId);
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
};
