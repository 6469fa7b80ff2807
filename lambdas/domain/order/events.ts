/** Order events: facts in past tense. Payloads are JSON-only; money in minor units. */
import type { EventActionOf, NewEvent } from '../../core/events/events';
import type { RejectReason } from './commands';

export interface OrderEventPayloads {
  'order/created': { customerId: string; currency: string };
  /** Schema version 2 (version 1 had `unitPrice`; the codec upcasts it, see upcasters.ts). */
  'order/lineAdded': { lineId: string; sku: string; quantity: number; unitPriceMinor: number };
  'order/quantityChanged': { lineId: string; quantity: number };
  'order/lineRemoved': { lineId: string };
  'order/submitted': Record<string, never>;
  'order/cancelled': { reason?: string };
  'order/deleted': Record<string, never>;
  /** The fulfilment workflow reserved every line's stock. */
  'order/confirmed': Record<string, never>;
  /** `skusShort`: the SKUs stock refused (empty when the workflow timed out). */
  'order/rejected': { reason: RejectReason; skusShort: string[] };
}

export type OrderEventType = keyof OrderEventPayloads;

export type OrderEvent = {
  [K in OrderEventType]: NewEvent<K, OrderEventPayloads[K]>;
}[OrderEventType];

/** An order event as reducers see it: FSA with `meta` (version, time, ids). */
export type OrderEventAction = EventActionOf<OrderEvent>;
