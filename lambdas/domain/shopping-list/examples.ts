/**
 * Example histories of the shopping list: what tests fold every projection fed by lists over
 * (test/unit/source-states-immutable.test.ts finds every domain's `examples.ts`). COMMAND_SCRIPTS
 * are example command sequences the conformance test
 * (test/integration/aggregate-conformance.test.ts) sends on both stacks, as random subsequences
 * (the first command kept; refused ones dropped).
 */
import type { NewEvent } from '../../core/events/events';
import type { ShoppingListCommand } from './commands';

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

export const COMMAND_SCRIPTS: {
  readonly aggregateType: string;
  readonly scripts: readonly (readonly ShoppingListCommand[])[];
} = {
  aggregateType: 'shoppingList',
  scripts: [
    [
      { type: 'shoppingList/create', payload: { name: 'Weekend', ownerId: 'o-1' } },
      { type: 'shoppingList/addItem', payload: { itemId: 'i1', text: 'Milk' } },
      { type: 'shoppingList/addItem', payload: { itemId: 'i2', text: 'Bread' } },
      { type: 'shoppingList/toggleItem', payload: { itemId: 'i1' } },
      { type: 'shoppingList/rename', payload: { name: 'BBQ' } },
      { type: 'shoppingList/removeItem', payload: { itemId: 'i2' } },
      { type: 'shoppingList/addItem', payload: { itemId: 'i3', text: 'Bread' } },
      { type: 'shoppingList/toggleItem', payload: { itemId: 'i1' } },
    ],
    [
      { type: 'shoppingList/create', payload: { name: 'Office', ownerId: 'o-2' } },
      { type: 'shoppingList/addItem', payload: { itemId: 'i1', text: 'Tea' } },
      { type: 'shoppingList/toggleItem', payload: { itemId: 'i1' } },
      { type: 'shoppingList/removeItem', payload: { itemId: 'i1' } },
      { type: 'shoppingList/delete', payload: {} },
    ],
  ],
};
