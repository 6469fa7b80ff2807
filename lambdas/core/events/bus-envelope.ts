/**
 * The event-bus envelope: what other services receive of a domain event, as the `detail` of an
 * Amazon EventBridge event (docs/reference/event-bus.md is the contract). Pure: the AWS pipe's
 * enrichment function and the local bus both build entries with it, from a `StoredEvent` that
 * went through the one event codec (decoded and upcast), so consumers always see today's
 * payload shape with the version it was written at replaced by the current one.
 *
 * - `Source` names the deployment (`redux-backend.decoupled`, `redux-backend.coupled`): each
 *   stack has its own bus and its own aggregates; a consumer that forwards both to one bus can
 *   still tell them apart.
 * - `DetailType` is the event type (`order/submitted`), so a rule matches on it alone.
 * - `Detail` is the versioned envelope below. Within `envelopeVersion` 1 fields are only added,
 *   never renamed, removed or retyped; a breaking change is version 2, published side by side.
 * - An entry over EventBridge's 256 KB limit is published without its payload, flagged with
 *   `payloadOmitted`: the consumer reads the event from `GET /{collection}/{id}/events`.
 */
import * as z from 'zod';
import type { StoredEvent } from './events';

/** The version of the envelope's shape (not of the event's payload: that is `schemaVersion`). */
export const BUS_ENVELOPE_VERSION = 1;

/** Every `Source` of this app starts so; the stack's name follows. */
export const BUS_SOURCE_PREFIX = 'redux-backend';

/** The `Source` of a stack's events, e.g. `redux-backend.decoupled`. */
export const busSourceOf = (stack: string): string => `${BUS_SOURCE_PREFIX}.${stack}`;

/** EventBridge's limit on one PutEvents entry (Time, Source, DetailType, Detail, Resources). */
export const MAX_BUS_ENTRY_BYTES = 256 * 1024;

/** EventBridge counts a present `Time` as 14 bytes, whatever its text. */
const TIME_BYTES = 14;

const positiveInteger = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * The envelope as consumers parse it. Unknown fields are accepted and dropped (zod's default),
 * so a consumer built against this schema keeps working when fields are added.
 */
export const busEnvelopeSchema = z
  .object({
    envelopeVersion: z.literal(BUS_ENVELOPE_VERSION),
    /** Unique per event, stable across redeliveries: consumers deduplicate on it. */
    eventId: z.string().min(1),
    /** The event type, also the EventBridge `detail-type`. */
    type: z.string().min(1),
    aggregateType: z.string().min(1),
    aggregateId: z.string().min(1),
    /** The aggregate's version this event made (1-based, gapless per aggregate). */
    version: positiveInteger,
    /** When the command was accepted (ISO 8601); also the EventBridge event's `time`. */
    occurredAt: z.iso.datetime({ offset: true }),
    /** The request that started the chain (a click, and every command it caused). */
    correlationId: z.string(),
    /** What caused the command: its own id, or the event a process manager reacted to. */
    causationId: z.string(),
    commandId: z.string(),
    /** The user whose command made it; null for events stored before users existed. */
    actor: z.string().nullable(),
    /** The payload's schema version: always the current one (old payloads are upcast). */
    schemaVersion: positiveInteger,
    /** The event's payload; absent only when `payloadOmitted` says why. */
    payload: z.record(z.string(), z.unknown()).optional(),
    /** Set instead of `payload` when the entry would exceed EventBridge's 256 KB. */
    payloadOmitted: z
      .object({ reason: z.literal('too-large'), payloadBytes: positiveInteger })
      .optional(),
  })
  .refine(
    (envelope) => (envelope.payload === undefined) !== (envelope.payloadOmitted === undefined),
    {
      message: 'exactly one of payload and payloadOmitted is present',
    },
  );

export type BusEnvelope = z.infer<typeof busEnvelopeSchema>;

/** One EventBridge PutEvents entry (the fields this app sets). */
export interface BusEntry {
  readonly Source: string;
  readonly DetailType: string;
  /** The envelope as JSON text. */
  readonly Detail: string;
  /** The event's `occurredAt`. */
  readonly Time: string;
}

const encoder = new TextEncoder();
/** Bytes of a text in UTF-8 (TextEncoder, not Buffer: consumers may parse in a browser). */
const utf8Bytes = (text: string) => encoder.encode(text).byteLength;

/** An entry's size as EventBridge counts it against MAX_BUS_ENTRY_BYTES. */
export const busEntryBytes = (entry: BusEntry): number =>
  TIME_BYTES + utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail);

/** The entry that carries an envelope: `DetailType` is its type, `Time` its `occurredAt`. */
export const busEntryOf = (envelope: BusEnvelope, source: string): BusEntry => ({
  Source: source,
  DetailType: envelope.type,
  Detail: JSON.stringify(envelope),
  Time: envelope.occurredAt,
});

/**
 * The envelope of a decoded event (event-codec.ts: its payload is today's shape). The size is
 * checked with the entry's real `source`; over the limit, the payload is left out and flagged.
 */
export const toBusEnvelope = (event: StoredEvent, source: string): BusEnvelope => {
  if (event.schemaVersion === undefined) {
    // Only the codec's output carries it: an event that skipped the codec is a bug here.
    throw new Error(`${event.type} ${event.eventId} was not decoded by the event codec`);
  }
  const withoutPayload = {
    envelopeVersion: BUS_ENVELOPE_VERSION,
    eventId: event.eventId,
    type: event.type,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    version: event.version,
    occurredAt: event.occurredAt,
    correlationId: event.correlationId,
    causationId: event.causationId,
    commandId: event.commandId,
    actor: event.actor ?? null,
    schemaVersion: event.schemaVersion,
  } as const;
  const full: BusEnvelope = {
    ...withoutPayload,
    payload: event.payload as Record<string, unknown>,
  };
  if (busEntryBytes(busEntryOf(full, source)) <= MAX_BUS_ENTRY_BYTES) return full;
  const reference: BusEnvelope = {
    ...withoutPayload,
    payloadOmitted: {
      reason: 'too-large',
      payloadBytes: utf8Bytes(JSON.stringify(event.payload)),
    },
  };
  const bytes = busEntryBytes(busEntryOf(reference, source));
  if (bytes > MAX_BUS_ENTRY_BYTES) {
    throw new Error(
      `${event.type} ${event.eventId}: even without its payload the entry is ${bytes} bytes`,
    );
  }
  return reference;
};

/** The PutEvents entry of a decoded event: `busEntryOf(toBusEnvelope(event, source), source)`. */
export const toBusEntry = (event: StoredEvent, source: string): BusEntry =>
  busEntryOf(toBusEnvelope(event, source), source);
