/**
 * Read models of the inventory domain (declared projections, see lambdas/core/projections/row-projection.ts),
 * listed in PROJECTIONS (lambdas/handlers/deployment.ts) and served by
 * `GET /read-models/<name>/<key>`. More: docs/guide/change-a-read-model.md.
 */
import { aggregateView } from '../../core/projections/collections';
import type { InventoryEventType } from './events';
import { inventoryAggregate } from './index';
import type { InventoryState, InventoryView } from './reducer';

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
export const inventoryRowProjection = aggregateView<InventoryState, InventoryView>({
  name: 'inventory',
  version: 1,
  source: inventoryAggregate,
  eventTypes: EVENT_TYPES,
  createdBy: 'inventory/received',
});
