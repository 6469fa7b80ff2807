/** The Sales Order aggregate and its read-model projection, assembled from pure parts. */
import type { AggregateDefinition } from '../../core/aggregate';
import type { ProjectionDefinition } from '../../core/projection';
import { type OrderCommand, orderCommandSchemas } from './commands';
import { decideOrder } from './decide';
import type { OrderEvent } from './events';
import { orderReducer, type OrderState, type OrderView } from './reducer';

export const orderAggregate: AggregateDefinition<OrderState, OrderCommand, OrderEvent> = {
  type: 'order',
  // Bump when the state's meaning changes (docs/decisions.md, "Snapshots").
  snapshotVersion: 1,
  initialState: null,
  reducer: orderReducer,
  decide: decideOrder,
  commandSchemas: orderCommandSchemas,
};

/** The read model is the same reducer's output; a deleted order is stored as a tombstone. */
export const orderProjection: ProjectionDefinition<OrderView> = {
  aggregateType: 'order',
  reducer: orderReducer as ProjectionDefinition<OrderView>['reducer'],
  isDeleted: (view) => view.status === 'deleted',
};

export * from './commands';
export * from './decide';
export * from './events';
export * from './reducer';
export * from './upcasters';
