/** The Sales Order aggregate, assembled from pure parts (its view: ./projections.ts). */
import type { AggregateDefinition } from '../../core/command/aggregate';
import { type OrderCommand, orderCommandSchemas } from './commands';
import { decideOrder } from './decide';
import { ORDER_PERMISSIONS, authorizeOrder, canReadOrder } from './permissions';
import type { OrderEvent } from './events';
import { orderReducer, type OrderState } from './reducer';

export const orderAggregate: AggregateDefinition<OrderState, OrderCommand, OrderEvent> = {
  type: 'order',
  // Bump when the state's meaning changes (docs/decisions/snapshots.md).
  snapshotVersion: 2, // 2: confirmed and rejected
  initialState: null,
  reducer: orderReducer,
  decide: decideOrder,
  canRead: canReadOrder,
  permissions: ORDER_PERMISSIONS,
  authorize: authorizeOrder,
  commandSchemas: orderCommandSchemas,
};

export * from './commands';
export * from './decide';
export * from './events';
export * from './permissions';
export * from './reducer';
export * from './upcasters';
