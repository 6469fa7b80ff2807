/**
 * What this deployment serves: its aggregates and its declared projections. The projector runs
 * every projection listed here, the query route `GET /read-models/{name}/{key}` serves them, and
 * their storage (PROJECTIONS_TABLE) is created by the CDK stacks and the local runtime. Adding a
 * projection: declare it in its domain folder and add it here (docs/guide/change-a-read-model.md).
 * Collections name the URL segment each aggregate is served under (`GET /{collection}/{id}`).
 */
import { orderAggregate, orderProjection } from '../domain/order';
import { customerSummaryProjection, removedLinesProjection } from '../domain/order/projections';
import { shoppingListAggregate, type ShoppingListView } from '../domain/shopping-list';
import {
  ownerListsProjection,
  shoppingListRowProjection,
} from '../domain/shopping-list/projections';
import type { AnyRowProjection } from '../core/row-projection';
import { checkCollections, type CollectionDeclaration } from '../core/collections';
import { RESERVED_SEGMENTS } from './routes';

export const AGGREGATES = [orderAggregate, shoppingListAggregate];

/**
 * The one-row-per-aggregate read model: the stacks' read-model table (its keys and list indexes
 * come from this declaration, in CDK and locally), written by the projector (decoupled) or with
 * the events (coupled), served by `GET /orders...` and pushed as `<name>/changed`.
 */
export const AGGREGATE_VIEW = orderProjection;

export const PROJECTIONS: readonly AnyRowProjection[] = [
  customerSummaryProjection,
  removedLinesProjection,
  shoppingListRowProjection,
  ownerListsProjection,
];

/**
 * The aggregates served by the generic collection routes (`GET /{collection}/{id}`, `/events`,
 * `/history`), each with its view: a declared projection above, one row per aggregate keyed by
 * its id. Checked at module load (lambdas/core/collections.ts): a bad declaration fails the cold
 * start. The order is served by its own static routes and table
 * (docs/decisions/collections.md). A plain array literal, like AGGREGATES and PROJECTIONS, so a
 * tool can append an entry.
 */
export const COLLECTIONS: readonly CollectionDeclaration[] = [
  {
    collection: 'shopping-lists',
    aggregate: shoppingListAggregate,
    view: shoppingListRowProjection,
    isDeleted: (row: ShoppingListView) => row.status === 'deleted',
  },
];
checkCollections(COLLECTIONS, {
  aggregates: AGGREGATES,
  projections: PROJECTIONS,
  reserved: RESERVED_SEGMENTS,
});
