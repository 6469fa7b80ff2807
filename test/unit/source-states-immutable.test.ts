/**
 * The row projector caches source states across batches and hands the same object to every
 * projection as `before` (docs/decisions.md, "The projector's source-state cache"): a reducer
 * that changed its input would corrupt the cache. Every state, `before` and row is frozen here
 * (a write throws in strict mode), and the folds must still equal the unfrozen ones.
 */
import { type EventAction, toAction } from '../../lambdas/core/events';
import { advanceSource, type AnyRowProjection, foldRows } from '../../lambdas/core/row-projection';
import { customerSummaryV2Projection } from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { stamp } from '../support/given';

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

const line = (lineId: string, sku: string, quantity: number) => ({
  type: 'order/lineAdded',
  payload: { lineId, sku, quantity, unitPriceMinor: 250 },
});
const orderLogs: EventAction[][] = [
  stamp('order-1', [
    { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } },
    line('a', 'A', 2),
    line('b', 'B', 1),
    { type: 'order/quantityChanged', payload: { lineId: 'a', quantity: 5 } },
    { type: 'order/lineRemoved', payload: { lineId: 'b' } },
    { type: 'order/submitted', payload: {} },
    { type: 'order/cancelled', payload: { reason: 'late' } },
  ]).map(toAction),
  stamp('order-2', [
    { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } },
    line('a', 'B', 3),
    { type: 'order/lineRemoved', payload: { lineId: 'a' } },
    { type: 'order/deleted', payload: {} },
  ]).map(toAction),
];
const listLogs: EventAction[][] = [
  stamp('list-1', [
    { type: 'shoppingList/created', payload: { name: 'Weekend', ownerId: 'o-1' } },
    { type: 'shoppingList/itemAdded', payload: { itemId: 'i1', text: 'Milk' } },
    { type: 'shoppingList/itemAdded', payload: { itemId: 'i2', text: 'Bread' } },
    { type: 'shoppingList/itemToggled', payload: { itemId: 'i1', checked: true } },
    { type: 'shoppingList/renamed', payload: { name: 'BBQ' } },
    { type: 'shoppingList/itemRemoved', payload: { itemId: 'i2' } },
  ]).map(toAction),
  stamp('list-2', [
    { type: 'shoppingList/created', payload: { name: 'Office', ownerId: 'o-1' } },
    { type: 'shoppingList/itemAdded', payload: { itemId: 'i1', text: 'Tea' } },
    { type: 'shoppingList/deleted', payload: {} },
  ]).map(toAction),
];
/** Each projection is folded from its own source's logs; a source without logs here fails. */
const logsBySource: Record<string, EventAction[][]> = {
  order: orderLogs,
  shoppingList: listLogs,
};

const projections: AnyRowProjection[] = [...PROJECTIONS, customerSummaryV2Projection];

test.each(projections.map((p) => [p.name, p.version, p] as const))(
  '%s v%s: neither the source reducer nor the projection changes its inputs',
  (_name, _version, projection) => {
    const logs = logsBySource[projection.source.type];
    if (!logs) throw new Error(`No test logs for the source ${projection.source.type}`);
    const rows = new Map<string, unknown>();
    for (const log of logs) {
      let state = deepFreeze(projection.source.initialState as unknown);
      for (const event of log) {
        deepFreeze(event);
        if (projection.eventTypes.includes(event.type)) {
          const key = projection.rowKey(event, state);
          if (key !== undefined) {
            rows.set(key, deepFreeze(projection.reducer(rows.get(key), event, state)));
          }
        }
        state = deepFreeze(advanceSource(projection, state, event));
      }
    }
    expect(rows.size).toBeGreaterThan(0);
    expect(rows).toEqual(foldRows(projection, structuredClone(logs)));
  },
);
