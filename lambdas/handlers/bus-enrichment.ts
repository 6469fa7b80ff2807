/**
 * The event bus pipe's enrichment function: EventBridge Pipes hands it a batch of the event
 * table's stream records (an array, INSERTs only: the pipe filters) and sends what it returns,
 * one EventBridge event per element, to the stack's bus. Each record goes through the one event
 * codec (decoded, validated, upcast: projector.ts `parseStreamRecord`, as the projector reads
 * it) and becomes the envelope of core/events/bus-envelope.ts. Locally the bus poller runs this
 * very handler (local/emulators/event-bus.ts).
 *
 * - An event of a type this deployment does not list (a foreign event) is not published: its
 *   shape is not ours to promise; it is counted in the log line.
 * - An unreadable record fails the whole invocation: the pipe retries the batch (bisecting it),
 *   then puts it on its dead-letter queue, which is alarmed (lib/constructs/event-bus.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { type BusEnvelope, toBusEnvelope } from '../core/events/bus-envelope';
import { parseStreamRecord } from './projector';

export interface BusEnrichmentDependencies {
  readonly logger: Logger;
  /** The deployment's aggregate types: only their events are published. */
  readonly aggregateTypes: readonly string[];
  /** The `Source` the pipe publishes with (sizes are checked with it). */
  readonly source: string;
}

/** A record the codec refused: the invocation fails so the pipe retries, then dead-letters it. */
export class UnreadableStreamRecordError extends Error {
  override readonly name = 'UnreadableStreamRecordError';
}

export type BusEnrichmentHandler = (
  records: readonly DynamoDBRecord[],
  context?: Context,
) => Promise<BusEnvelope[]>;

export const createBusEnrichmentHandler =
  (deps: BusEnrichmentDependencies): BusEnrichmentHandler =>
  async (records, context) => {
    const logger = deps.logger.createChild();
    if (context) logger.addContext(context);
    const envelopes: BusEnvelope[] = [];
    let foreign = 0;
    for (const [index, record] of records.entries()) {
      const parsed = parseStreamRecord(record, index, deps.aggregateTypes);
      // Not an INSERT: the pipe's filter lets none through; the local poller may.
      if (!parsed) continue;
      if ('invalid' in parsed) {
        logger.error('Unreadable event record', { record: parsed.id, reason: parsed.invalid });
        throw new UnreadableStreamRecordError(`record ${parsed.id}: ${parsed.invalid}`);
      }
      if ('foreign' in parsed) {
        foreign++;
        continue;
      }
      envelopes.push(toBusEnvelope(parsed.event, deps.source));
    }
    logger.info('Enriched batch for the event bus', {
      correlationIds: [...new Set(envelopes.map((e) => e.correlationId))],
      records: records.length,
      published: envelopes.length,
      foreign,
      payloadsOmitted: envelopes.filter((e) => e.payloadOmitted).length,
    });
    return envelopes;
  };
