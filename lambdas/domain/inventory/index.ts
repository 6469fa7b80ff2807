/**
 * The inventory aggregate: the stock of one SKU (its aggregate id), assembled from pure parts
 * (its view: projections.ts). Registered in lambdas/handlers/deployment.ts (AGGREGATES and
 * COLLECTIONS), which is all it takes to serve it at `/inventory/{sku}`.
 */
import type { AggregateDefinition } from '../../core/command/aggregate';
import { type InventoryCommand, inventoryCommandSchemas } from './commands';
import { decideInventory } from './decide';
import { INVENTORY_PERMISSIONS, authorizeInventory, canReadInventory } from './permissions';
import type { InventoryEvent } from './events';
import { inventoryReducer, type InventoryState } from './reducer';

type Definition = AggregateDefinition<InventoryState, InventoryCommand, InventoryEvent>;

export const inventoryAggregate: Definition = {
  // Stored on every event, and the prefix of every command and event type: never change it.
  type: 'inventory',
  // Bump when the state's meaning changes (docs/decisions/snapshots.md).
  snapshotVersion: 1,
  initialState: null,
  reducer: inventoryReducer,
  decide: decideInventory,
  canRead: canReadInventory,
  permissions: INVENTORY_PERMISSIONS,
  authorize: authorizeInventory,
  commandSchemas: inventoryCommandSchemas,
};

export * from './commands';
export * from './decide';
export * from './events';
export * from './permissions';
export * from './reducer';
