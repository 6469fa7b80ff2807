/** The shopping-list aggregate, assembled from pure parts (its read models: projections.ts). */
import type { AggregateDefinition } from '../../core/command/aggregate';
import { type ShoppingListCommand, shoppingListCommandSchemas } from './commands';
import { decideShoppingList } from './decide';
import {
  SHOPPING_LIST_PERMISSIONS,
  authorizeShoppingList,
  canReadShoppingList,
} from './permissions';
import type { ShoppingListEvent } from './events';
import { shoppingListReducer, type ShoppingListState } from './reducer';

export const shoppingListAggregate: AggregateDefinition<
  ShoppingListState,
  ShoppingListCommand,
  ShoppingListEvent
> = {
  type: 'shoppingList',
  // Bump when the state's meaning changes (docs/decisions/snapshots.md).
  snapshotVersion: 2, // 2: sharedWith
  initialState: null,
  reducer: shoppingListReducer,
  decide: decideShoppingList,
  canRead: canReadShoppingList,
  permissions: SHOPPING_LIST_PERMISSIONS,
  authorize: authorizeShoppingList,
  commandSchemas: shoppingListCommandSchemas,
};

export * from './commands';
export * from './decide';
export * from './events';
export * from './permissions';
export * from './reducer';
