/** Pure decisions: a shopping-list command and the current state give events, or a typed error. */
import type { DecideContext } from '../../core/command/aggregate';
import { AlreadyExistsError, NotFoundError, RuleViolation } from '../../core/shared/errors';
import { MAX_ITEM_IDS, MAX_ITEMS, MAX_SHARES, type ShoppingListCommand } from './commands';
import type { ShoppingListEvent } from './events';
import type { ShoppingListItem, ShoppingListState, ShoppingListView } from './reducer';

/**
 * The rule codes a 422 answer can carry in `details.rule`. A command on a list never created is
 * a 404 (NOT_FOUND) and a second create a 409 (ALREADY_EXISTS), as for every aggregate.
 */
export const SHOPPING_LIST_RULES = {
  LIST_DELETED: 'A deleted list takes no command.',
  SAME_NAME: 'A rename needs a name other than the current one.',
  DUPLICATE_ITEM_ID: 'An itemId is unique within its list, including the ids of removed items.',
  DUPLICATE_ITEM_TEXT:
    'Two items of a list cannot have the same text (case and surrounding spaces ignored).',
  TOO_MANY_ITEMS: `A list has at most ${MAX_ITEMS} items.`,
  ITEM_IDS_EXHAUSTED: `A list uses at most ${MAX_ITEM_IDS} item ids over its life, removed ones included.`,
  ITEM_NOT_FOUND: 'The itemId names no item of this list.',
  ITEM_REMOVED: 'The item was removed from this list.',
  SHARE_WITH_OWNER: 'The owner has the list already: share it with someone else.',
  ALREADY_SHARED: 'The list is shared with this user already.',
  NOT_SHARED: 'The list is not shared with this user.',
  TOO_MANY_SHARES: `A list is shared with at most ${MAX_SHARES} users.`,
} as const;

export type ShoppingListRule = keyof typeof SHOPPING_LIST_RULES;

const violation = (rule: ShoppingListRule, details: Record<string, unknown> = {}) =>
  new RuleViolation(rule, SHOPPING_LIST_RULES[rule], details);

/** How two item texts are compared: case and surrounding spaces ignored. */
export const itemTextKey = (text: string): string => text.trim().toLowerCase();

/** The live item named by `itemId`; a removed or unknown id is a rule violation. */
const requireItem = (list: ShoppingListView, itemId: string): ShoppingListItem => {
  if (list.removedItemIds.includes(itemId)) throw violation('ITEM_REMOVED', { itemId });
  const item = list.items.find((i) => i.itemId === itemId);
  if (!item) throw violation('ITEM_NOT_FOUND', { itemId });
  return item;
};

export const decideShoppingList = (
  state: ShoppingListState,
  command: ShoppingListCommand,
  context: DecideContext,
): ShoppingListEvent[] => {
  if (command.type === 'shoppingList/create') {
    if (state !== null) {
      throw new AlreadyExistsError(`Shopping list ${context.aggregateId} already exists`, {
        aggregateId: context.aggregateId,
      });
    }
    const ownerId = command.payload.ownerId ?? context.actor.subject;
    return [{ type: 'shoppingList/created', payload: { ...command.payload, ownerId } }];
  }
  if (state === null) {
    throw new NotFoundError(`Shopping list ${context.aggregateId} does not exist`, {
      aggregateId: context.aggregateId,
    });
  }
  if (state.status === 'deleted') throw violation('LIST_DELETED');

  switch (command.type) {
    case 'shoppingList/rename':
      if (command.payload.name === state.name) {
        throw violation('SAME_NAME', { name: state.name });
      }
      return [{ type: 'shoppingList/renamed', payload: command.payload }];
    case 'shoppingList/addItem': {
      const { itemId, text } = command.payload;
      if (state.items.some((i) => i.itemId === itemId) || state.removedItemIds.includes(itemId)) {
        throw violation('DUPLICATE_ITEM_ID', { itemId });
      }
      const existing = state.items.find((i) => itemTextKey(i.text) === itemTextKey(text));
      if (existing) throw violation('DUPLICATE_ITEM_TEXT', { itemId: existing.itemId, text });
      if (state.items.length >= MAX_ITEMS) throw violation('TOO_MANY_ITEMS', { max: MAX_ITEMS });
      if (state.items.length + state.removedItemIds.length >= MAX_ITEM_IDS) {
        throw violation('ITEM_IDS_EXHAUSTED', { max: MAX_ITEM_IDS });
      }
      return [{ type: 'shoppingList/itemAdded', payload: { itemId, text } }];
    }
    case 'shoppingList/toggleItem': {
      const item = requireItem(state, command.payload.itemId);
      return [
        {
          type: 'shoppingList/itemToggled',
          payload: { itemId: item.itemId, checked: !item.checked },
        },
      ];
    }
    case 'shoppingList/removeItem':
      requireItem(state, command.payload.itemId);
      return [{ type: 'shoppingList/itemRemoved', payload: command.payload }];
    case 'shoppingList/delete':
      return [{ type: 'shoppingList/deleted', payload: {} }];
    case 'shoppingList/share': {
      const { userId } = command.payload;
      const sharedWith = state.sharedWith ?? [];
      if (userId === state.ownerId) throw violation('SHARE_WITH_OWNER', { userId });
      if (sharedWith.includes(userId)) throw violation('ALREADY_SHARED', { userId });
      if (sharedWith.length >= MAX_SHARES) throw violation('TOO_MANY_SHARES', { max: MAX_SHARES });
      return [{ type: 'shoppingList/shared', payload: { userId } }];
    }
    case 'shoppingList/unshare':
      if (!(state.sharedWith ?? []).includes(command.payload.userId)) {
        throw violation('NOT_SHARED', { userId: command.payload.userId });
      }
      return [{ type: 'shoppingList/unshared', payload: command.payload }];
    default: {
      const unhandled: never = command;
      throw new Error(`Unhandled command ${(unhandled as ShoppingListCommand).type}`);
    }
  }
};
