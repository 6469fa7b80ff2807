/** The Sales Order aggregate and its read-model projection, assembled from pure parts. */
import type { AggregateDefinition } from '../../core/command/aggregate';
import type { ProjectionDefinition } from '../../core/projections/projection';
import { topicOf } from '../../core/push/push';
import type { IndexDefinition } from '../../core/shared/schema';
import { type OrderCommand, orderCommandSchemas } from './commands';
import { decideOrder } from './decide';
import type { OrderEvent } from './events';
import { orderReducer, type OrderState, type OrderView } from './reducer';

export const orderAggregate: AggregateDefinition<OrderState, OrderCommand, OrderEvent> = {
  type: 'order',
  // Bump when the state's meaning changes (docs/decisions/snapshots.md).
  snapshotVersion: 1,
  initialState: null,
  reducer: orderReducer,
  decide: decideOrder,
  commandSchemas: orderCommandSchemas,
};

/**
 * The indexes of `GET /orders`. Both are sparse: a deleted order's tombstone has no `status` or
 * `customerId`, so it drops out of both.
 * - `byStatus`: newest `createdAt` first, keys only. Its keys change only when the status does,
 *   so most events cost it nothing, and a status partition (all drafts!) takes about one write
 *   per status change instead of two row-sized writes per event (
 *   docs/decisions/by-status-keys-only.md). The list reads the rows themselves.
 * - `byCustomer`: newest `updatedAt` first, whole rows (its filtered pages need `status`).
 */
export const ORDER_INDEXES = {
  byStatus: {
    indexName: 'byStatus',
    partitionKey: { name: 'status', type: 'S' },
    sortKey: { name: 'createdAt', type: 'S' },
    projection: 'KEYS_ONLY',
  },
  byCustomer: {
    indexName: 'byCustomer',
    partitionKey: { name: 'customerId', type: 'S' },
    sortKey: { name: 'updatedAt', type: 'S' },
  },
} as const satisfies Record<string, IndexDefinition>;

/**
 * The order row, one per order: the same reducer's output, declared like any projection. Its
 * table (keys and the list indexes above), its push topics (`order#<id>`) and its messages
 * (`order/changed`) all come from this declaration; a deleted order is stored as a tombstone.
 */
export const orderProjection: ProjectionDefinition<OrderView> = {
  name: 'order',
  version: 1,
  aggregateType: 'order',
  reducer: orderReducer as ProjectionDefinition<OrderView>['reducer'],
  isDeleted: (view) => view.status === 'deleted',
  indexes: Object.values(ORDER_INDEXES),
};

/** The push topic of one order (`order#<id>`): what a subscriber of that order listens to. */
export const orderTopic = (id: string): string => topicOf(orderProjection, id);

export * from './commands';
export * from './decide';
export * from './events';
export * from './reducer';
export * from './upcasters';
