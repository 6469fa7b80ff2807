/**
 * The one order reducer. It is the aggregate's state (what `decide` checks), the read-model
 * row (what the projector and the coupled Lambda store), and a Redux client's slice.
 * Pure: time and version come from the event's meta, stamped at the edge.
 */
import type { Reducer } from 'redux';
import type { RejectReason } from './commands';
import type { OrderEventAction } from './events';

/**
 * Every status an order can have. A draft is submitted; the fulfilment workflow then confirms it
 * (its stock is reserved) or rejects it; a draft, submitted or confirmed order can be cancelled;
 * any can be deleted.
 */
export const ORDER_STATUSES = [
  'draft',
  'submitted',
  'confirmed',
  'rejected',
  'cancelled',
  'deleted',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderLine {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  /** quantity x unitPrice, minor units. */
  readonly amount: number;
}

export interface OrderView {
  readonly id: string;
  readonly customerId: string;
  readonly currency: string;
  readonly status: OrderStatus;
  readonly lines: readonly OrderLine[];
  readonly lineCount: number;
  /** Sum of line amounts, minor units. */
  readonly total: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Version of the last event applied. */
  readonly version: number;
  readonly cancelReason?: string;
  /** Why the fulfilment workflow rejected the order (status `rejected`). */
  readonly rejectReason?: RejectReason;
  /** The SKUs stock was short of (status `rejected`; empty when it timed out). */
  readonly skusShort?: readonly string[];
}

/** `null` until the order is created. */
export type OrderState = OrderView | null;

const withLines = (order: OrderView, lines: readonly OrderLine[]): OrderView => ({
  ...order,
  lines,
  lineCount: lines.length,
  total: lines.reduce((sum, line) => sum + line.amount, 0),
});

const line = (lineId: string, sku: string, quantity: number, unitPrice: number): OrderLine => ({
  lineId,
  sku,
  quantity,
  unitPrice,
  amount: quantity * unitPrice,
});

const applyToOrder = (order: OrderView, event: OrderEventAction): OrderView => {
  switch (event.type) {
    case 'order/created':
      return order;
    case 'order/lineAdded': {
      const { lineId, sku, quantity, unitPriceMinor } = event.payload;
      return withLines(order, [...order.lines, line(lineId, sku, quantity, unitPriceMinor)]);
    }
    case 'order/quantityChanged':
      return withLines(
        order,
        order.lines.map((l) =>
          l.lineId === event.payload.lineId
            ? line(l.lineId, l.sku, event.payload.quantity, l.unitPrice)
            : l,
        ),
      );
    case 'order/lineRemoved':
      return withLines(
        order,
        order.lines.filter((l) => l.lineId !== event.payload.lineId),
      );
    case 'order/submitted':
      return { ...order, status: 'submitted' };
    case 'order/cancelled':
      return {
        ...order,
        status: 'cancelled',
        ...(event.payload.reason !== undefined && { cancelReason: event.payload.reason }),
      };
    case 'order/deleted':
      return { ...order, status: 'deleted' };
    case 'order/confirmed':
      return { ...order, status: 'confirmed' };
    case 'order/rejected':
      return {
        ...order,
        status: 'rejected',
        rejectReason: event.payload.reason,
        skusShort: event.payload.skusShort,
      };
    default: {
      // Compile time: every event type is handled. Run time: an unknown type changes nothing.
      const _unhandled: never = event;
      return order;
    }
  }
};

export const orderReducer: Reducer<OrderState, OrderEventAction> = (state = null, event) => {
  if (event.type === 'order/created') {
    return {
      id: event.meta.aggregateId,
      customerId: event.payload.customerId,
      currency: event.payload.currency,
      status: 'draft',
      lines: [],
      lineCount: 0,
      total: 0,
      createdAt: event.meta.occurredAt,
      updatedAt: event.meta.occurredAt,
      version: event.meta.version,
    };
  }
  // Events of other aggregates, or before creation, leave the state as it is (Redux convention).
  if (state === null || !event.type.startsWith('order/')) return state;
  return {
    ...applyToOrder(state, event),
    updatedAt: event.meta.occurredAt,
    version: event.meta.version,
  };
};
