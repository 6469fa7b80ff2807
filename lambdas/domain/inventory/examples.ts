/**
 * Example histories of a SKU's stock: what tests fold every projection fed by it over
 * (test/unit/source-states-immutable.test.ts finds every domain's `examples.ts`). COMMAND_SCRIPTS
 * are example command sequences the conformance test
 * (test/integration/aggregate-conformance.test.ts) sends on both stacks, as random subsequences
 * (the first command kept; refused ones dropped).
 */
import type { NewEvent } from '../../core/events/events';
import type { InventoryCommand } from './commands';

export const EXAMPLES: { readonly aggregateType: string; readonly histories: NewEvent[][] } = {
  aggregateType: 'inventory',
  histories: [
    [
      { type: 'inventory/received', payload: { quantity: 10 } },
      { type: 'inventory/reserved', payload: { orderId: 'o-1', quantity: 4 } },
      { type: 'inventory/reserved', payload: { orderId: 'o-2', quantity: 6 } },
      { type: 'inventory/shipped', payload: { orderId: 'o-1', quantity: 4 } },
      { type: 'inventory/released', payload: { orderId: 'o-2', quantity: 6 } },
      { type: 'inventory/received', payload: { quantity: 5 } },
    ],
    [
      { type: 'inventory/received', payload: { quantity: 1 } },
      { type: 'inventory/reserved', payload: { orderId: 'o-3', quantity: 1 } },
    ],
  ],
};

export const COMMAND_SCRIPTS: {
  readonly aggregateType: string;
  readonly scripts: readonly (readonly InventoryCommand[])[];
} = {
  aggregateType: 'inventory',
  scripts: [
    [
      { type: 'inventory/receive', payload: { quantity: 10 } },
      { type: 'inventory/reserve', payload: { orderId: 'o-1', quantity: 4 } },
      { type: 'inventory/reserve', payload: { orderId: 'o-2', quantity: 7 } },
      { type: 'inventory/reserve', payload: { orderId: 'o-2', quantity: 6 } },
      { type: 'inventory/ship', payload: { orderId: 'o-1' } },
      { type: 'inventory/release', payload: { orderId: 'o-2' } },
      { type: 'inventory/receive', payload: { quantity: 5 } },
      { type: 'inventory/reserve', payload: { orderId: 'o-3', quantity: 11 } },
    ],
    [
      { type: 'inventory/receive', payload: { quantity: 2 } },
      { type: 'inventory/reserve', payload: { orderId: 'o-1', quantity: 2 } },
      { type: 'inventory/release', payload: { orderId: 'o-1' } },
      { type: 'inventory/reserve', payload: { orderId: 'o-1', quantity: 1 } },
      { type: 'inventory/ship', payload: { orderId: 'o-1' } },
    ],
  ],
};
