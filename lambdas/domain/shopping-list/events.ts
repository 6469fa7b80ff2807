/** Shopping-list events: facts in past tense, in the `shoppingList/` namespace. JSON-only payloads. */
import type { EventActionOf, NewEvent } from '../../core/events/events';

export interface ShoppingListEventPayloads {
  'shoppingList/created': { name: string; ownerId: string };
  'shoppingList/renamed': { name: string };
  'shoppingList/itemAdded': { itemId: string; text: string };
  /** Carries the resulting state of the box, so the reducer needs no lookup. */
  'shoppingList/itemToggled': { itemId: string; checked: boolean };
  'shoppingList/itemRemoved': { itemId: string };
  'shoppingList/deleted': Record<string, never>;
  'shoppingList/shared': { userId: string };
  'shoppingList/unshared': { userId: string };
}

export type ShoppingListEventType = keyof ShoppingListEventPayloads;

export type ShoppingListEvent = {
  [K in ShoppingListEventType]: NewEvent<K, ShoppingListEventPayloads[K]>;
}[ShoppingListEventType];

/** A shopping-list event as reducers see it: FSA with `meta` (version, time, ids). */
export type ShoppingListEventAction = EventActionOf<ShoppingListEvent>;
