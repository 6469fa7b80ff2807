import { configureStore } from '../support/redux-store';
import { type OrderEventAction, orderReducer } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { foldRows } from '../../lambdas/core/projections/row-projection';
import { type StoredEvent, toAction } from '../../lambdas/core/events/events';
import { AT, stamp } from '../../lambdas/core/given';
import { COLLECTIONS } from '../../lambdas/handlers/deployment';

const history = stamp('order-7', [
  { type: 'order/created', payload: { customerId: 'c-9', currency: 'USD' } },
  { type: 'order/lineAdded', payload: { lineId: 'a', sku: 'A', quantity: 2, unitPriceMinor: 500 } },
  {
    type: 'order/lineAdded',
    payload: { lineId: 'b', sku: 'B', quantity: 1, unitPriceMinor: 1999 },
  },
  { type: 'order/quantityChanged', payload: { lineId: 'a', quantity: 3 } },
  { type: 'order/lineRemoved', payload: { lineId: 'b' } },
  { type: 'order/submitted', payload: {} },
]).map((e, i) => ({ ...e, occurredAt: `2026-01-01T00:00:0${i}.000Z` }));

/** The order view's row of order-7 after `events` (the fold the row projector converges to). */
const viewAfter = (events: readonly StoredEvent[]) =>
  foldRows(orderViewProjection, [events.map(toAction)]).get('order-7') ?? null;

test('the view folds the history into the row', () => {
  expect(viewAfter(history)).toEqual({
    id: 'order-7',
    customerId: 'c-9',
    currency: 'USD',
    status: 'submitted',
    lines: [{ lineId: 'a', sku: 'A', quantity: 3, unitPrice: 500, amount: 1500 }],
    lineCount: 1,
    total: 1500,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    version: 6,
  });
});

test('totals follow every line change', () => {
  const afterTwoLines = viewAfter(history.slice(0, 3));
  expect(afterTwoLines).toMatchObject({
    lineCount: 2,
    total: 2 * 500 + 1999,
    status: 'draft',
    version: 3,
  });
});

test('cancel keeps its reason; delete keeps the row with status deleted (answered 404)', () => {
  const more = stamp(
    'order-7',
    [
      { type: 'order/cancelled', payload: { reason: 'late' } },
      { type: 'order/deleted', payload: {} },
    ],
    history.length,
  );
  const cancelled = viewAfter([...history, more[0]!]);
  expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'late', version: 7 });
  const deletedView = viewAfter([...history, ...more])!;
  expect(deletedView).toMatchObject({ status: 'deleted', version: 8 });
  const orders = COLLECTIONS.find((c) => c.view === orderViewProjection)!;
  expect(orders.isDeleted!(cancelled)).toBe(false);
  expect(orders.isDeleted!(deletedView)).toBe(true);
});

test('given a submitted order, when the workflow confirms it, then the view is confirmed with nothing of a rejection', () => {
  const confirmed = stamp('order-7', [{ type: 'order/confirmed', payload: {} }], history.length);
  const view = viewAfter([...history, ...confirmed])!;
  expect(view).toMatchObject({ status: 'confirmed', total: 1500, lineCount: 1, version: 7 });
  expect(view).not.toHaveProperty('rejectReason');
  expect(view).not.toHaveProperty('skusShort');
});

test('given a submitted order, when the workflow rejects it, then the view keeps the reason and the SKUs short', () => {
  const rejected = stamp(
    'order-7',
    [{ type: 'order/rejected', payload: { reason: 'not-enough-stock', skusShort: ['A'] } }],
    history.length,
  );
  const view = viewAfter([...history, ...rejected])!;
  expect(view).toEqual({
    ...viewAfter(history),
    status: 'rejected',
    rejectReason: 'not-enough-stock',
    skusShort: ['A'],
    updatedAt: AT,
    version: 7,
  });
  const orders = COLLECTIONS.find((c) => c.view === orderViewProjection)!;
  expect(orders.isDeleted!(view)).toBe(false);
});

test('given a confirmed order, when it is cancelled, then the view is cancelled with its reason', () => {
  const more = stamp(
    'order-7',
    [
      { type: 'order/confirmed', payload: {} },
      { type: 'order/cancelled', payload: { reason: 'found it cheaper' } },
    ],
    history.length,
  );
  expect(viewAfter([...history, ...more])).toMatchObject({
    status: 'cancelled',
    cancelReason: 'found it cheaper',
    version: 8,
  });
});

test('the reducer is pure: same input, same output, input untouched', () => {
  const frozen = history.map((e) => Object.freeze(toAction(e)) as OrderEventAction);
  const first = frozen.reduce(orderReducer, null);
  expect(frozen.reduce(orderReducer, null)).toEqual(first);
});

test('events of other aggregates and events before creation change nothing', () => {
  const state = viewAfter(history.slice(0, 2));
  const foreign = { type: 'cart/itemAdded', payload: {}, meta: toAction(history[0]!).meta };
  expect(orderReducer(state, foreign as never)).toBe(state);
  expect(orderReducer(null, toAction(history[1]!) as OrderEventAction)).toBeNull();
});

test('the same reducer runs in a Redux store on the client', () => {
  const store = configureStore(orderReducer);
  history.forEach((e) => store.dispatch(toAction(e) as OrderEventAction));
  expect(store.getState()).toEqual(viewAfter(history));
});
