/**
 * Example histories of the shopping list: what tests fold every projection fed by lists over
 * (test/unit/source-states-immutable.test.ts finds every domain's `examples.ts`).
 */
import type { NewEvent } from '../../core/events';

export const EXAMPLES: { readonly aggregateType: string; readonly histories: NewEvent[][] } = {
  aggregateType: 'shoppingList',
  histories: [
    [
      { type: 'shoppingList/created', payload: { name: 'Weekend', ownerId: 'o-1' } },
      { type: 'shoppingList/itemAdded', payload: { itemId: 'i1', text: 'Milk' } },
      { type: 'shoppingList/itemAdded', payload: { itemId: 'i2', text: 'Bread' } },
      { type: 'shoppingList/itemToggled', payload: { itemId: 'i1', checked: true } },
      { type: 'shoppingList/renamed', payload: { name: 'BBQ' } },
      { type: 'shoppingList/itemRemoved', payload: { itemId: 'i2' } },
    ],
    [
      { type: 'shoppingList/created', payload: { name: 'Office', ownerId: 'o-1' } },
      { type: 'shoppingList/itemAdded', payload: { itemId: 'i1', text: 'Tea' } },
      { type: 'shoppingList/deleted', payload: {} },
    ],
  ],
};
