/**
 * Who may do what with a shopping list: pure rules as data, beside `decide`, run by the server
 * and by the client's optimistic prediction alike (docs/guide/users-and-permissions.md).
 * The owner does anything; users it is shared with read it and change its items; support reads
 * every list; an admin may do anything.
 */
import { isAdmin, type ReadRule } from '../../core/identity/authorization';
import { hasRole, type Principal } from '../../core/identity/principal';
import type { ShoppingListCommand } from './commands';
import type { ShoppingListState } from './reducer';

/** The rule codes a 403 answer can carry in `details.rule`. */
export const SHOPPING_LIST_PERMISSIONS = {
  OWNER_IS_THE_CALLER:
    'A list is created for the signed-in user: omit ownerId or name yourself (only an admin names another user).',
  OWNER_ONLY: 'Only the owner may rename, share, unshare or delete the list.',
  OWNER_OR_SHARED: 'Only the owner and the users the list is shared with may change its items.',
} as const;

export type ShoppingListPermission = keyof typeof SHOPPING_LIST_PERMISSIONS;

const isSharedWith = (list: ShoppingListState, principal: Principal) =>
  list !== null && (list.sharedWith ?? []).includes(principal.subject);

const isOwner = (list: ShoppingListState, principal: Principal) =>
  list !== null && list.ownerId === principal.subject;

/** The owner, its shared users, support and admins read a list; nobody is refused a missing one. */
export const canReadShoppingList: ReadRule<ShoppingListState> = (principal, list) =>
  list === null ||
  isAdmin(principal) ||
  hasRole(principal, 'support') ||
  isOwner(list, principal) ||
  isSharedWith(list, principal);

export const authorizeShoppingList = (
  principal: Principal,
  list: ShoppingListState,
  command: ShoppingListCommand,
): ShoppingListPermission | undefined => {
  if (isAdmin(principal)) return undefined;
  // A command on a list that does not exist yet is decide's NOT_FOUND, not a refusal.
  const owner = list === null || isOwner(list, principal);
  switch (command.type) {
    case 'shoppingList/create': {
      const named = command.payload.ownerId;
      return named === undefined || named === principal.subject ? undefined : 'OWNER_IS_THE_CALLER';
    }
    case 'shoppingList/addItem':
    case 'shoppingList/toggleItem':
    case 'shoppingList/removeItem':
      return owner || isSharedWith(list, principal) ? undefined : 'OWNER_OR_SHARED';
    case 'shoppingList/rename':
    case 'shoppingList/delete':
    case 'shoppingList/share':
    case 'shoppingList/unshare':
      return owner ? undefined : 'OWNER_ONLY';
    default: {
      const unhandled: never = command;
      throw new Error(`Unhandled command ${(unhandled as ShoppingListCommand).type}`);
    }
  }
};
