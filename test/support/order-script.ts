/**
 * One order's life as a command script, shared by the tests that drive both profiles with the
 * same commands and compare what they build. Final state: cancelled, lines a (7 x 999) and
 * c (10 x 0), total 6993, version 8.
 */
export const orderLifecycle = (aggregateId: string, customerId = 'same') => [
  { type: 'order/create', aggregateId, payload: { customerId, currency: 'SEK' } },
  {
    type: 'order/addLine',
    aggregateId,
    payload: { lineId: 'a', sku: 'A', quantity: 3, unitPrice: 999 },
  },
  {
    type: 'order/addLine',
    aggregateId,
    payload: { lineId: 'b', sku: 'B', quantity: 1, unitPrice: 5 },
  },
  { type: 'order/changeQuantity', aggregateId, payload: { lineId: 'a', quantity: 7 } },
  { type: 'order/removeLine', aggregateId, payload: { lineId: 'b' } },
  {
    type: 'order/addLine',
    aggregateId,
    payload: { lineId: 'c', sku: 'C', quantity: 10, unitPrice: 0 },
  },
  { type: 'order/submit', aggregateId, payload: {} },
  { type: 'order/cancel', aggregateId, payload: { reason: 'too slow' } },
];
