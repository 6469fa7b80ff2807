/**
 * Stock events: facts in past tense, in the `inventory/` namespace (the command runner refuses
 * any other). Payloads are JSON only. Once stored, an event's shape is kept: change it with an
 * upcaster (lambdas/domain/event-schemas.ts).
 */
import type { EventActionOf, NewEvent } from '../../core/events/events';

export interface InventoryEventPayloads {
  'inventory/received': { quantity: number };
  'inventory/reserved': { orderId: string; quantity: number };
  /** Carries the quantity given back, so the reducer needs no lookup. */
  'inventory/released': { orderId: string; quantity: number };
  'inventory/shipped': { orderId: string; quantity: number };
}

export type InventoryEventType = keyof InventoryEventPayloads;

export type InventoryEvent = {
  [K in InventoryEventType]: NewEvent<K, InventoryEventPayloads[K]>;
}[InventoryEventType];

/** An inventory event as reducers see it: FSA with `meta` (version, time, ids). */
export type InventoryEventAction = EventActionOf<InventoryEvent>;
