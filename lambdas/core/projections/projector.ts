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
