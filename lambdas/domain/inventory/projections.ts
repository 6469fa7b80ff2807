/**
 * Read models of the inventory domain (declared projections, see lambdas/core/projections/row-projection.ts),
 * listed in PROJECTIONS (lambdas/handlers/deployment.ts) and served by
 * `GET /read-models/<name>/<key>`. More: docs/guide/change-a-read-model.md.
 */
import type { EventAction } from '../../core/events/events';
import type { RowProjection } from '../../core/projections/row-projection';
import type { InventoryEventAction, InventoryEventType } from './events';
import { inventoryAggregate } from './index';
import { inventoryReducer, type InventoryState, type InventoryView } from './reducer';

/** Only these events reach the projection: list every event type of the aggregate. */
const EVENT_TYPES: readonly InventoryEventType[] = [
  'inventory/received',
  'inventory/reserved',
  'inventory/released',
  'inventory/shipped',
];

/**
 * One row per SKU, keyed by its id: the view its reducer folds (so the row and the state cannot
 * disagree): on hand, reserved, available and the open reservations. Changing the row's shape
 * or meaning: bump `version` and rebuild (docs/guide/change-a-read-model.md).
 */
export const inventoryRowProjection: RowProjection<InventoryView, InventoryState> = {
  name: 'inventory',
  version: 1,
  source: inventoryAggregate,
  eventTypes: EVENT_TYPES,
  // Events of a SKU already received (or being received); anything else feeds no row.
  rowKey: (event, before) =>
    before !== null || event.type === 'inventory/received' ? event.meta.aggregateId : undefined,
  reducer: (_row, event: EventAction, before) => {
    const after = inventoryReducer(before, event as InventoryEventAction);
    if (after === null) {
      throw new Error(`${event.type} of ${event.meta.aggregateId} applies to no SKU`);
    }
    return after;
  },
  // The command API's aggregate ids.
  keyPattern: /^[A-Za-z0-9_-]{1,64}$/,
};
