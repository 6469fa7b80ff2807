/**
 * The redrive functions (AWS): each fed by a dead-letter queue (an SQS event source), they turn
 * each message into a re-run, from the event table, of the consumer that failed:
 *
 * - the projector's queue: a re-projection of the aggregates a message names (`reproject`);
 * - the workflows function's queues: its process managers run again on the events a message
 *   names, from the first one it names (`processes`), and a timer it failed on fires again.
 *
 * A message is Lambda's on-failure record of a stream batch (coordinates only: the records are
 * read back from the stream, which holds them 24 hours), an operator's `{ "aggregateIds": [...] }`
 * or `{ "events": [{ "aggregateId", "version" }] }`, or (the workflows' timer queue) the
 * `{ "processTimer": ... }` the function failed on. A message whose aggregates were all re-run is
 * deleted (a success); any other is reported in `batchItemFailures`, so it stays in the queue and
 * is retried after the queue's visibility timeout: a redrive that failed because the bug is still
 * there succeeds once the fix is deployed. Every resolution logs the aggregate ids, which outlive
 * the stream.
 *
 * Nothing is ever put back or rewritten: a message stays as Lambda (or the operator) wrote it.
 * A batch the stream no longer holds (trimmed after its 24-hour retention, or its shard gone)
 * cannot be repaired here at all, now or later: its message names no aggregate, only stream
 * positions that no longer exist. The function says so in one ERROR line marked
 * `redriveOutcome: "unrepairable"` (UNREPAIRABLE below), which a metric filter counts and an
 * alarm watches (lib/constructs/redrive.ts), and leaves the message in the queue, so the alarm
 * stays on at each retry until an operator has re-run the aggregates by id (from the consumer's
 * "Projection failed" or "Process failed" lines) or rebuilt the declared projections, and
 * deleted the message (docs/operations/redrive.md).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StreamBatchReader } from '../core/repair/dynamodb-stream-reader';
import {
  aggregateIdsOf,
  firstVersionsOf,
  type FirstVersions,
  parseFailureMessage,
} from '../core/repair/redrive';
import type { Reprojector } from '../core/repair/reproject';
import type { Rerunner } from '../core/repair/rerun';
import type { ProcessRedrive } from '../core/repair/rerun-processes';

/**
 * The mark of the log line of a message that can never be repaired from the stream: the metric
 * filter of lib/constructs/redrive.ts matches `{ $.<field> = "<value>" }`.
 */
export const UNREPAIRABLE = { field: 'redriveOutcome', value: 'unrepairable' } as const;

/** What the operator does instead, in the unrepairable line itself (the projector's queue). */
export const UNREPAIRABLE_ADVICE =
  'The stream no longer holds this batch (older than its 24-hour retention, or its shard is ' +
  'gone): it cannot be read back, and retrying will not help. Re-project its aggregates by id ' +
  'instead: the projector logged each as "Projection failed" with aggregateId (around ' +
  'approximateArrivalOfFirstRecord..LastRecord, up to 6 hours later); run npm run reproject ' +
  'against the tables or send {"aggregateIds":[...]} to this queue; or rebuild the declared ' +
  'projections (RebuildStateMachineArn). Then delete this message: it stays in the queue and ' +
  'alarms until then (docs/operations/redrive.md).';

/** The same for the workflows' queue: the ids and versions are in "Process failed" lines. */
export const UNREPAIRABLE_PROCESS_ADVICE =
  'The stream no longer holds this batch (older than its 24-hour retention, or its shard is ' +
  'gone): it cannot be read back, and retrying will not help. Run its processes again by event ' +
  'instead: the workflows function logged each failure as "Process failed" with aggregateId and ' +
  'version (around approximateArrivalOfFirstRecord..LastRecord, up to 6 hours later); send ' +
  '{"events":[{"aggregateId":"...","version":N}]} to this queue. Then delete this message: it ' +
  'stays in the queue and alarms until then (docs/operations/redrive.md).';

export type RedriveHandlerDependencies = {
  readonly stream: StreamBatchReader;
  readonly logger: Logger;
} & (
  | {
      /** The projector's dead-letter queue: re-project the aggregates a message names. */
      readonly reproject: Reprojector;
    }
  | {
      /** The workflows function's dead-letter queues: run its processes again, fire its timers. */
      readonly processes: ProcessRedrive;
    }
);

/** What one kind of redrive re-runs with, and says. */
interface RedriveKind {
  readonly rerun: Rerunner;
  readonly doing: string;
  readonly advice: string;
  readonly processes?: ProcessRedrive;
}

const kindOf = (deps: RedriveHandlerDependencies): RedriveKind =>
  'reproject' in deps
    ? { rerun: deps.reproject, doing: 're-projecting', advice: UNREPAIRABLE_ADVICE }
    : {
        rerun: deps.processes.rerun,
        doing: 're-running processes',
        advice: UNREPAIRABLE_PROCESS_ADVICE,
        processes: deps.processes,
      };

export const createRedriveHandler = (deps: RedriveHandlerDependencies) => {
  const kind = kindOf(deps);

  /** True when every aggregate the message names was re-run (the message is done). */
  const redriveOne = async (messageId: string, body: string, log: Logger): Promise<boolean> => {
    const parsed = parseFailureMessage(body);
    let aggregateIds: readonly string[];
    let firstVersions: FirstVersions | undefined;
    if (parsed.kind === 'unreadable') {
      log.error('Redrive: unreadable message (left in the queue)', {
        messageId,
        reason: parsed.reason,
      });
      return false;
    } else if (parsed.kind === 'timer') {
      if (!kind.processes) {
        log.error('Redrive: a process timer, in a queue of projections (left in the queue)', {
          messageId,
          timer: parsed.timer.id,
        });
        return false;
      }
      const timerLog = log.createChild();
      timerLog.appendKeys({ correlationId: parsed.timer.correlationId });
      // Throws when the process fails again: the message stays, as for any other error.
      await kind.processes.fireTimer(parsed.timer, timerLog);
      timerLog.info('Redrive: timer fired', { messageId, timer: parsed.timer.id });
      return true;
    } else if (parsed.kind === 'aggregates') {
      aggregateIds = parsed.aggregateIds;
      firstVersions = parsed.firstVersions;
    } else if (parsed.records) {
      aggregateIds = aggregateIdsOf(parsed.records);
      firstVersions = firstVersionsOf(parsed.records);
    } else {
      const read = await deps.stream.recordsOf(parsed.batch);
      if ('unavailable' in read) {
        log.error('Redrive: unrepairable, the stream no longer holds this batch', {
          messageId,
          [UNREPAIRABLE.field]: UNREPAIRABLE.value,
          ...parsed.batch,
          unavailable: read.unavailable,
          reason: read.reason,
          advice: kind.advice,
        });
        return false;
      }
      aggregateIds = aggregateIdsOf(read.records);
      firstVersions = firstVersionsOf(read.records);
      if (aggregateIds.length === 0) {
        // Never delete a message for a batch that read back as nothing: retry it later.
        log.error('Redrive: the stream gave no record of this batch (left in the queue)', {
          messageId,
          ...parsed.batch,
        });
        return false;
      }
    }
    log.info(`Redrive: ${kind.doing}`, {
      messageId,
      aggregateIds,
      ...(firstVersions && { firstVersions }),
    });
    const results = await kind.rerun(aggregateIds, undefined, firstVersions);
    const notDone = results.filter((r) => r.status === 'failed');
    if (notDone.length > 0) {
      log.error(`Redrive: ${kind.doing} failed; the message stays in the queue`, {
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
