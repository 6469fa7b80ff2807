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
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StreamBatchReader } from '../core/dynamodb-stream-reader';
import { aggregateIdsOf, parseFailureMessage } from '../core/redrive';
import type { Reprojector } from '../core/reproject';

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
        log.error(
          'Redrive: the stream no longer holds this batch; re-project its aggregates by id ' +
            '(the projector logged them as "Projection failed" with aggregateId): send ' +
            '{"aggregateIds":[...]} to this queue or run npm run reproject',
          { messageId, ...parsed.batch, unavailable: read.unavailable, reason: read.reason },
        );
        return false;
      }
      aggregateIds = aggregateIdsOf(read.records);
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
