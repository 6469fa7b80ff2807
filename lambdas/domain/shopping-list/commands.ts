/** Shopping-list commands: imperative intents, with the runtime schema each payload must satisfy. */
import * as z from 'zod';

/** Items on a list at once. */
export const MAX_ITEMS = 200;
/**
 * Item ids a list ever used (current and removed): removed ids stay reserved, so this bounds the
 * row (200 items of 200 characters plus 1,000 ids of 64 stay far below DynamoDB's 400 KB).
 */
export const MAX_ITEM_IDS = 1_000;
export const MAX_NAME_LENGTH = 100;
export const MAX_ITEM_TEXT_LENGTH = 200;
/** Users a list is shared with at once. */
export const MAX_SHARES = 20;

const itemId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
/** A user's id: the `sub` of their token. */
const userId = z.string().min(1).max(128);
/** Surrounding spaces are not part of a name: the schema trims, then measures. */
const name = z
  .string()
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);
const text = z
  .string()
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_ITEM_TEXT_LENGTH, `must be at most ${MAX_ITEM_TEXT_LENGTH} characters`);

export const shoppingListCommandSchemas = {
  /** `ownerId` is the signed-in user when omitted; naming another user is an admin's right. */
  'shoppingList/create': z.strictObject({ name, ownerId: userId.optional() }),
  'shoppingList/rename': z.strictObject({ name }),
  'shoppingList/addItem': z.strictObject({ itemId, text }),
  'shoppingList/toggleItem': z.strictObject({ itemId }),
  'shoppingList/removeItem': z.strictObject({ itemId }),
  'shoppingList/delete': z.strictObject({}),
  /** The user may then read the list and change its items (not share, rename or delete it). */
  'shoppingList/share': z.strictObject({ userId }),
  'shoppingList/unshare': z.strictObject({ userId }),
};

type Schemas = typeof shoppingListCommandSchemas;

export type ShoppingListCommand = {
  [K in keyof Schemas]: { readonly type: K; readonly payload: z.infer<Schemas[K]> };
}[keyof Schemas];

export type ShoppingListCommandType = ShoppingListCommand['type'];
