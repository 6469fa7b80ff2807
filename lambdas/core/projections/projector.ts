/**
 * What a projector takes and answers: the stream records of the event table, parsed by the
 * projector handler (lambdas/handlers/projector.ts), and the records to retry. The projector is
 * the row projector (./row-projector.ts), which runs every declared projection; a
 * re-projection (../repair/reproject.ts) hands it records too.
 */
import type { EventEnvelope } from '../events/event-codec';
import type { StoredEvent } from '../events/events';
import type { Log } from '../shared/log';

/**
 * One stream record, parsed by the handler: an event of a deployed aggregate type, the envelope
 * of an event of another type (not validated further: its shape is not ours to know), or the
 * reason it is not an event.
 */
export type IncomingRecord =
  | { readonly id: string; readonly event: StoredEvent }
  | { readonly id: string; readonly foreign: EventEnvelope & { readonly type?: string } }
  | { readonly id: string; readonly invalid: string };

export interface ProjectionOutcome {
  /** Ids of the records to report in `batchItemFailures`. */
  readonly failed: string[];
  readonly applied: number;
  /** Records of other aggregate types. */
  readonly ignored: number;
}

export type Projector = (
  records: readonly IncomingRecord[],
  log?: Log,
) => Promise<ProjectionOutcome>;

/**
 * The events of `sourceTypes` in a batch, grouped by aggregate id (in delivery order), as the
 * row projector and the workflows function take them. A record that is not an event at all (the
 * handler could not read it) is logged here: its caller reports it failed, never drops it unseen.
 */
export const eventsByAggregate = (
  records: readonly IncomingRecord[],
  sourceTypes: ReadonlySet<string>,
  log: Log,
): Map<string, StoredEvent[]> => {
  const groups = new Map<string, StoredEvent[]>();
  for (const record of records) {
    if ('invalid' in record) {
      log.error('Unreadable stream record', { recordId: record.id, reason: record.invalid });
    }
    if (!('event' in record) || !sourceTypes.has(record.event.aggregateType)) continue;
    const group = groups.get(record.event.aggregateId) ?? [];
    group.push(record.event);
    groups.set(record.event.aggregateId, group);
  }
  return groups;
};
