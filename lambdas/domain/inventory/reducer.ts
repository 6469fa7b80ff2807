/**
 * The one inventory reducer: the aggregate's state (what `decide` checks), the view row (the
 * `inventory` projection) and a Redux client's slice.
 * Pure: time and version come from the event's meta, stamped at the edge.
 */
import type { Reducer } from 'redux';
import type { InventoryEventAction } from './events';

export interface InventoryView {
  /** The SKU (the aggregate id). */
  readonly id: string;
  /** Units in the warehouse, reserved ones included. */
  readonly onHand: number;
  /** Units held for orders not shipped yet. */
  readonly reserved: number;
  /** Units a new reservation may take: onHand - reserved. */
  readonly available: number;
  /** Open reservations: order id -> units held. */
  readonly reservations: Readonly<Record<string, number>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Version of the last event applied. */
  readonly version: number;
}

/** `null` until the SKU's first receipt. */
export type InventoryState = InventoryView | null;

const withoutReservation = (
  reservations: Readonly<Record<string, number>>,
  orderId: string,
): Record<string, number> => {
  const { [orderId]: _gone, ...rest } = reservations;
  return rest;
};

/** The view with `onHand` and `reserved` moved by the deltas, and `available` kept in step. */
const moved = (
  view: InventoryView,
  onHand: number,
  reserved: number,
  reservations: Readonly<Record<string, number>>,
): InventoryView => ({
  ...view,
  onHand: view.onHand + onHand,
  reserved: view.reserved + reserved,
  available: view.onHand + onHand - (view.reserved + reserved),
  reservations,
});

const apply = (view: InventoryView, event: InventoryEventAction): InventoryView => {
  switch (event.type) {
    case 'inventory/received':
      return moved(view, event.payload.quantity, 0, view.reservations);
    case 'inventory/reserved': {
      const { orderId, quantity } = event.payload;
      return moved(view, 0, quantity, { ...view.reservations, [orderId]: quantity });
    }
    case 'inventory/released': {
      const { orderId, quantity } = event.payload;
      return moved(view, 0, -quantity, withoutReservation(view.reservations, orderId));
    }
    case 'inventory/shipped': {
      const { orderId, quantity } = event.payload;
      return moved(view, -quantity, -quantity, withoutReservation(view.reservations, orderId));
    }
    default: {
      // Compile time: every event type is handled. Run time: an unknown type changes nothing.
      const _unhandled: never = event;
      return view;
    }
  }
};

const EMPTY = { onHand: 0, reserved: 0, available: 0, reservations: {} } as const;

export const inventoryReducer: Reducer<InventoryState, InventoryEventAction> = (
  state = null,
  event,
) => {
  // Events of other aggregates leave the state as it is (Redux convention).
  if (!event.type.startsWith('inventory/')) return state;
  // Only a receipt starts an inventory; anything else before it changes nothing.
  if (state === null && event.type !== 'inventory/received') return state;
  const base: InventoryView = state ?? {
    id: event.meta.aggregateId,
    ...EMPTY,
    createdAt: event.meta.occurredAt,
    updatedAt: event.meta.occurredAt,
    version: 0,
  };
  return { ...apply(base, event), updatedAt: event.meta.occurredAt, version: event.meta.version };
};
