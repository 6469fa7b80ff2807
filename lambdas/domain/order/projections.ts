/**
 * Read models of the order domain fed by many orders (declared projections, see
 * lambdas/core/projections/row-projection.ts). Each reducer is pure and commutes across orders (counts,
 * sums, maxima), so a row is the fold of the log whatever order orders are delivered in.
 */
import type { EventAction } from '../../core/events/events';
import type { RowProjection } from '../../core/projections/row-projection';
import {
  isStaff,
  ownerOrStaff,
  ownPartitionOrStaff,
  staffOnly,
} from '../../core/identity/authorization';
import { orderAggregate } from './index';
import type { OrderEventAction } from './events';
import { ORDER_STATUSES, type OrderState, type OrderStatus, type OrderView } from './reducer';
import { aggregateView } from '../../core/projections/collections';

/**
 * Every event type of an order: the view and the customer summary follow each (a record, so a
 * new event type that is not listed here fails to compile).
 */
const ORDER_EVENT_TYPES = Object.keys({
  'order/created': true,
  'order/lineAdded': true,
  'order/quantityChanged': true,
  'order/lineRemoved': true,
  'order/submitted': true,
  'order/confirmed': true,
  'order/rejected': true,
  'order/cancelled': true,
  'order/deleted': true,
} satisfies Record<OrderEventAction['type'], true>) as readonly OrderEventAction['type'][];

/** A listed status: any but `deleted` (a deleted order is in no list). */
const LISTED_STATUS = new RegExp(
  `^(${ORDER_STATUSES.filter((status) => status !== 'deleted').join('|')})$`,
);

/**
 * The order's view, one row per order keyed by its id: the aggregate's own state (so rows and
 * state cannot disagree), kept with status `deleted` once deleted (answered 404). Served as
 * `GET /orders/{id}`, pushed as `order/changed`, and listed (a deleted order leaves both lists):
 * - `GET /orders?status=draft`: newest `createdAt` first. Its index holds keys only: its keys
 *   change only when the status does, so most events cost it nothing
 *   (docs/decisions/by-status-keys-only.md); a page reads its rows.
 * - `GET /orders?customerId=c-1` (and `&status=`): newest `updatedAt` first, whole rows, so a
 *   page filtered on status is one Query.
 */
export const orderViewProjection = aggregateView<OrderState, OrderView>({
  name: 'order',
  version: 1,
  source: orderAggregate,
  eventTypes: ORDER_EVENT_TYPES,
  createdBy: 'order/created',
  lists: [
    {
      param: 'status',
      pattern: LISTED_STATUS,
      partitionOf: (row) => (row.status === 'deleted' ? undefined : row.status),
      sortOf: (row) => row.createdAt,
      holds: 'keys',
      // Every customer's orders in a status: staff only.
      mayList: isStaff,
    },
    {
      param: 'customerId',
      pattern: /^.{1,128}$/,
      partitionOf: (row) => (row.status === 'deleted' ? undefined : row.customerId),
      sortOf: (row) => row.updatedAt,
      filters: { status: LISTED_STATUS },
      mayList: ownPartitionOrStaff,
    },
  ],
});

export interface CustomerSummary {
  readonly customerId: string;
  /** Orders of this customer by their current status. */
  readonly ordersByStatus: Readonly<Record<OrderStatus, number>>;
  /**
   * Sum of the totals of the orders placed and standing, per currency (minor units): submitted
   * or confirmed (a confirmed order stays counted; cancelling or rejecting it takes it out).
   */
  readonly submittedTotals: Readonly<Record<string, number>>;
  /** The latest `occurredAt` of any event of any of the customer's orders. */
  readonly lastActivityAt: string;
}

const NO_ORDERS = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<
  OrderStatus,
  number
>;

/** The statuses whose orders count in `submittedTotals`. */
const STANDING: readonly OrderStatus[] = ['submitted', 'confirmed'];
const standingTotal = (order: OrderView, status: OrderStatus) =>
  STANDING.includes(status) ? order.total : 0;

const asOrderEvent = (event: EventAction) => event as OrderEventAction;

/** The order's status after `event`, when the event changes it. */
const statusAfter = (event: OrderEventAction): OrderStatus | undefined => {
  switch (event.type) {
    case 'order/created':
      return 'draft';
    case 'order/submitted':
      return 'submitted';
    case 'order/confirmed':
      return 'confirmed';
    case 'order/rejected':
      return 'rejected';
    case 'order/cancelled':
      return 'cancelled';
    case 'order/deleted':
      return 'deleted';
    case 'order/lineAdded':
    case 'order/quantityChanged':
    case 'order/lineRemoved':
      return undefined;
    default: {
      const _unhandled: never = event;
      return undefined;
    }
  }
};

export const customerSummaryProjection: RowProjection<CustomerSummary, OrderState> = {
  name: 'customer-summary',
  version: 1,
  source: orderAggregate,
  eventTypes: ORDER_EVENT_TYPES,
  rowKey: (event, before) => {
    const e = asOrderEvent(event);
    return e.type === 'order/created' ? e.payload.customerId : before?.customerId;
  },
  reducer: (row, event, before) => {
    const e = asOrderEvent(event);
    const customerId = e.type === 'order/created' ? e.payload.customerId : before!.customerId;
    const current: CustomerSummary = row ?? {
      customerId,
      ordersByStatus: NO_ORDERS,
      submittedTotals: {},
      lastActivityAt: e.meta.occurredAt,
    };
    const lastActivityAt =
      e.meta.occurredAt > current.lastActivityAt ? e.meta.occurredAt : current.lastActivityAt;
    const next = statusAfter(e);
    if (next === undefined) return { ...current, lastActivityAt };
    // NO_ORDERS underneath: a row stored before a status existed has no count for it yet.
    const ordersByStatus = { ...NO_ORDERS, ...current.ordersByStatus };
    ordersByStatus[next] += 1;
    if (before) ordersByStatus[before.status] -= 1;
    const totals = { ...current.submittedTotals };
    if (before) {
      const delta = standingTotal(before, next) - standingTotal(before, before.status);
      if (delta !== 0) totals[before.currency] = (totals[before.currency] ?? 0) + delta;
    }
    return { ...current, ordersByStatus, submittedTotals: totals, lastActivityAt };
  },
  keyPattern: /^.{1,128}$/su,
  canRead: ownerOrStaff((row) => row.customerId),
};

export interface RemovedLines {
  readonly sku: string;
  /** How many times a line of this SKU was removed from an order. */
  readonly timesRemoved: number;
  /** The quantity those lines had when they were removed. */
  readonly quantityRemoved: number;
}

/**
 * A popular SKU's row is fed by every order that ever removed it: sharded, so no item carries
 * the checkpoints of more than ~1/8 of those orders
 * (docs/decisions/rows-fed-by-many-aggregates.md).
 * Version 2: version 1 was one item per SKU (changing `shards` changes the storage).
 */
export const removedLinesProjection: RowProjection<RemovedLines, OrderState> = {
  name: 'removed-lines',
  version: 2,
  shards: 8,
  merge: (rows) => ({
    sku: rows[0]!.sku,
    timesRemoved: rows.reduce((sum, r) => sum + r.timesRemoved, 0),
    quantityRemoved: rows.reduce((sum, r) => sum + r.quantityRemoved, 0),
  }),
  source: orderAggregate,
  eventTypes: ['order/lineRemoved'],
  rowKey: (event, before) => {
    const e = asOrderEvent(event);
    return e.type === 'order/lineRemoved'
      ? before?.lines.find((l) => l.lineId === e.payload.lineId)?.sku
      : undefined;
  },
  reducer: (row, event, before) => {
    const e = asOrderEvent(event);
    if (e.type !== 'order/lineRemoved') throw new Error(`removed-lines cannot apply ${e.type}`);
    const line = before?.lines.find((l) => l.lineId === e.payload.lineId);
    if (!line) throw new Error(`Line ${e.payload.lineId} is not in order ${e.meta.aggregateId}`);
    return {
      sku: line.sku,
      timesRemoved: (row?.timesRemoved ?? 0) + 1,
      quantityRemoved: (row?.quantityRemoved ?? 0) + line.quantity,
    };
  },
  keyPattern: /^.{1,64}$/su,
  // Across every customer's orders: staff only.
  canRead: staffOnly,
};

export interface CustomerSummaryV2 extends CustomerSummary {
  /** Every order the customer ever created, whatever became of it. */
  readonly ordersPlaced: number;
  /** Lines removed from any of the customer's orders (a question v1 cannot answer). */
  readonly linesRemoved: number;
}

/**
 * customer-summary v2: v1's row plus two counts. A new version is new storage
 * (`customer-summary@v2#...`), built by a rebuild beside v1 while v1 keeps serving; it is not in
 * the deployment list by default (docs/guide/change-a-read-model.md adds it).
 */
export const customerSummaryV2Projection: RowProjection<CustomerSummaryV2, OrderState> = {
  // v1's declaration (unsharded: no merge) with its own version and reducer.
  ...(customerSummaryProjection as Omit<typeof customerSummaryProjection, 'merge' | 'reducer'>),
  version: 2,
  reducer: (row, event, before) => {
    const v1 = customerSummaryProjection.reducer(row, event, before);
    const e = asOrderEvent(event);
    return {
      ...v1,
      ordersPlaced: (row?.ordersPlaced ?? 0) + (e.type === 'order/created' ? 1 : 0),
      linesRemoved: (row?.linesRemoved ?? 0) + (e.type === 'order/lineRemoved' ? 1 : 0),
    };
  },
};
