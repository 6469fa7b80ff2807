/**
 * The one shopping-list reducer. It is the aggregate's state (what `decide` checks), the
 * read-model row (the `shopping-list` projection) and a Redux client's slice.
 * Pure: time and version come from the event's meta, stamped at the edge.
 */
import type { Reducer } from 'redux';
import type { ShoppingListEventAction } from './events';

export type ShoppingListStatus = 'active' | 'deleted';

export interface ShoppingListItem {
  readonly itemId: string;
  readonly text: string;
  readonly checked: boolean;
}

export interface ShoppingListView {
  readonly id: string;
  readonly ownerId: string;
  /** Users the owner shared the list with (absent on rows built before sharing existed). */
  readonly sharedWith?: readonly string[];
  readonly name: string;
  readonly status: ShoppingListStatus;
  /** The items on the list, in the order they were added. */
  readonly items: readonly ShoppingListItem[];
  readonly itemCount: number;
  readonly checkedCount: number;
  /** Ids of removed items: never reused within the list. */
  readonly removedItemIds: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Version of the last event applied. */
  readonly version: number;
}

/** `null` until the list is created. */
export type ShoppingListState = ShoppingListView | null;

const withItems = (
  list: ShoppingListView,
  items: readonly ShoppingListItem[],
): ShoppingListView => ({
  ...list,
  items,
  itemCount: items.length,
  checkedCount: items.filter((item) => item.checked).length,
});

const applyToList = (list: ShoppingListView, event: ShoppingListEventAction): ShoppingListView => {
  switch (event.type) {
    case 'shoppingList/created':
      return list;
    case 'shoppingList/renamed':
      return { ...list, name: event.payload.name };
    case 'shoppingList/itemAdded': {
      const { itemId, text } = event.payload;
      return withItems(list, [...list.items, { itemId, text, checked: false }]);
    }
    case 'shoppingList/itemToggled': {
      const { itemId, checked } = event.payload;
      return withItems(
        list,
        list.items.map((item) => (item.itemId === itemId ? { ...item, checked } : item)),
      );
    }
    case 'shoppingList/itemRemoved': {
      const { itemId } = event.payload;
      return {
        ...withItems(
          list,
          list.items.filter((item) => item.itemId !== itemId),
        ),
        removedItemIds: [...list.removedItemIds, itemId],
      };
    }
    case 'shoppingList/deleted':
      return { ...list, status: 'deleted' };
    case 'shoppingList/shared':
      return { ...list, sharedWith: [...(list.sharedWith ?? []), event.payload.userId] };
    case 'shoppingList/unshared':
      return {
        ...list,
        sharedWith: (list.sharedWith ?? []).filter((userId) => userId !== event.payload.userId),
      };
    default: {
      // Compile time: every event type is handled. Run time: an unknown type changes nothing.
      const _unhandled: never = event;
      return list;
    }
  }
};

export const shoppingListReducer: Reducer<ShoppingListState, ShoppingListEventAction> = (
  state = null,
  event,
) => {
  if (event.type === 'shoppingList/created') {
    return {
      id: event.meta.aggregateId,
      ownerId: event.payload.ownerId,
      sharedWith: [],
      name: event.payload.name,
      status: 'active',
      items: [],
      itemCount: 0,
      checkedCount: 0,
      removedItemIds: [],
      createdAt: event.meta.occurredAt,
      updatedAt: event.meta.occurredAt,
      version: event.meta.version,
    };
  }
  // Events of other aggregates, or before creation, leave the state as it is (Redux convention).
  if (state === null || !event.type.startsWith('shoppingList/')) return state;
  return {
    ...applyToList(state, event),
    updatedAt: event.meta.occurredAt,
    version: event.meta.version,
  };
};
