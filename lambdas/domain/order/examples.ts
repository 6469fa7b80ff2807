/**
 * Example histories of the order: what tests fold every projection fed by orders over (e.g.
 * test/unit/source-states-immutable.test.ts finds every domain's `examples.ts`). Each history is
 * one order's events in order, as `decide` would have produced them.
 */
import type { NewEvent } from '../../core/events';

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
  ],
};
