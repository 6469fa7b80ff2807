/**
 * Example histories of the order: what tests fold every projection fed by orders over (e.g.
 * test/unit/source-states-immutable.test.ts finds every domain's `examples.ts`). Each history is
 * one order's events in order, as `decide` would have produced them. COMMAND_SCRIPTS are example
 * command sequences the conformance test (test/integration/aggregate-conformance.test.ts) sends
 * on both stacks, as random subsequences (the first command kept; refused ones dropped).
 */
import type { NewEvent } from '../../core/events/events';
import type { OrderCommand } from './commands';

const line = (lineId: string, sku: string, quantity: number): NewEvent => ({
  type: 'order/lineAdded',
  payload: { lineId, sku, quantity, unitPriceMinor: 250 },
});

export const EXAMPLES: { readonly aggregateType: string; readonly histories: NewEvent[][] } = {
  aggregateType: 'order',
  histories: [
    [
      { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } },
      line('a', 'A', 2),
      line('b', 'B', 1),
      { type: 'order/quantityChanged', payload: { lineId: 'a', quantity: 5 } },
      { type: 'order/lineRemoved', payload: { lineId: 'b' } },
      { type: 'order/submitted', payload: {} },
      { type: 'order/cancelled', payload: { reason: 'late' } },
    ],
    [
      { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } },
      line('a', 'B', 3),
      { type: 'order/lineRemoved', payload: { lineId: 'a' } },
      { type: 'order/deleted', payload: {} },
    ],
    // The fulfilment workflow's outcomes: confirmed (then cancelled), and rejected.
    [
      { type: 'order/created', payload: { customerId: 'c-2', currency: 'EUR' } },
      line('a', 'A', 1),
      { type: 'order/submitted', payload: {} },
      { type: 'order/confirmed', payload: {} },
      { type: 'order/cancelled', payload: {} },
    ],
    [
      { type: 'order/created', payload: { customerId: 'c-2', currency: 'EUR' } },
      line('a', 'A', 4),
      line('b', 'B', 2),
      { type: 'order/submitted', payload: {} },
      { type: 'order/rejected', payload: { reason: 'not-enough-stock', skusShort: ['B'] } },
    ],
  ],
};

const add = (lineId: string, quantity: number, unitPrice: number): OrderCommand => ({
  type: 'order/addLine',
  payload: { lineId, sku: `SKU-${lineId}`, quantity, unitPrice },
});

export const COMMAND_SCRIPTS: {
  readonly aggregateType: string;
  readonly scripts: readonly (readonly OrderCommand[])[];
} = {
  aggregateType: 'order',
  scripts: [
    [
      { type: 'order/create', payload: { customerId: 'c-1', currency: 'EUR' } },
      add('a', 2, 250),
      add('b', 1, 999),
      { type: 'order/changeQuantity', payload: { lineId: 'a', quantity: 5 } },
      { type: 'order/removeLine', payload: { lineId: 'b' } },
      add('c', 10, 0),
      { type: 'order/submit', payload: {} },
      { type: 'order/cancel', payload: { reason: 'late' } },
    ],
    [
      { type: 'order/create', payload: { customerId: 'c-2', currency: 'JPY' } },
      add('a', 3, 100),
      { type: 'order/removeLine', payload: { lineId: 'a' } },
      { type: 'order/cancel', payload: {} },
      { type: 'order/delete', payload: {} },
    ],
    // The fulfilment workflow's commands, as its admin sends them (a subsequence may confirm,
    // reject, or cancel a confirmed order; a second outcome is refused and dropped).
    [
      { type: 'order/create', payload: { customerId: 'c-3', currency: 'EUR' } },
      add('a', 1, 500),
      { type: 'order/submit', payload: {} },
      { type: 'order/confirm', payload: {} },
      { type: 'order/reject', payload: { reason: 'not-enough-stock', skusShort: ['SKU-a'] } },
      { type: 'order/reject', payload: { reason: 'timed-out', skusShort: [] } },
      { type: 'order/cancel', payload: { reason: 'no longer needed' } },
    ],
  ],
};
