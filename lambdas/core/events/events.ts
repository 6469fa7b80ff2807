/**
 * Event shapes. A `StoredEvent` is one item of the event table (system fields + free payload);
 * an `EventAction` is the same event as a Flux Standard Action, which is what reducers see.
 */
import type { Action } from 'redux';

/** What `decide` returns: a fact in past tense, without any system field. */
export interface NewEvent<Type extends string = string, Payload = unknown> {
  readonly type: Type;
  readonly payload: Payload;
}

/** One item of the event table, exactly as stored (JSON-only values). */
export interface StoredEvent<Type extends string = string, Payload = unknown> {
  readonly aggregateId: string;
  /** 1-based, gapless per aggregate. */
  readonly version: number;
  readonly aggregateType: string;
  readonly type: Type;
  readonly payload: Payload;
  readonly eventId: string;
  /** ISO-8601, stamped by the edge (never by a reducer). */
  readonly occurredAt: string;
  readonly commandId: string;
  /** Hash of the command body, so a reused `commandId` with another body is detected. */
  readonly commandHash: string;
  readonly correlationId: string;
  readonly causationId: string;
  /**
   * The `sub` of the user whose command made the event (the audit trail: `/history` shows it).
   * Absent on events stored before users existed.
   */
  readonly actor?: string;
  /**
   * The payload's schema version (see event-codec.ts). Written with the current one; absent on
   * items stored before versions were, which are version 1. Decoded events always carry it.
   */
  readonly schemaVersion?: number;
}

export interface EventMeta {
  readonly aggregateId: string;
  readonly version: number;
  readonly occurredAt: string;
  readonly eventId: string;
  readonly correlationId: string;
}

/** An event as a Flux Standard Action `{ type, payload, meta }`: the input of every reducer. */
export interface EventAction<Type extends string = string, Payload = unknown> extends Action<Type> {
  readonly payload: Payload;
  readonly meta: EventMeta;
}

export const toAction = <E extends StoredEvent>(
  event: E,
): EventAction<E['type'], E['payload']> => ({
  type: event.type,
  payload: event.payload,
  meta: {
    aggregateId: event.aggregateId,
    version: event.version,
    occurredAt: event.occurredAt,
    eventId: event.eventId,
    correlationId: event.correlationId,
  },
});

/**
 * Whether a stored event is one of `aggregateType`'s own: stored under that type and named in
 * its namespace (`order/…`, as every type its `decide` returns). Anything else found in its
 * partition (the API never writes it: see docs/decisions/foreign-events.md) is foreign: it
 * changes nothing, and still counts as a version, so a view's version is always the log's.
 */
export const isOwnEvent = (
  aggregateType: string,
  event: { readonly aggregateType: string; readonly type?: string | undefined },
): boolean =>
  event.aggregateType === aggregateType &&
  event.type !== undefined &&
  event.type.startsWith(`${aggregateType}/`);

/** Whether an event is the own event of one of `aggregateTypes` (a deployment's aggregates). */
export const isOwnEventOfAny = (
  aggregateTypes: readonly string[],
  event: Parameters<typeof isOwnEvent>[1],
): boolean => aggregateTypes.some((aggregateType) => isOwnEvent(aggregateType, event));

/** The action type of each event of a union (distributes over the union). */
export type EventActionOf<E extends NewEvent> =
  E extends NewEvent<infer Type, infer Payload> ? EventAction<Type, Payload> : never;
