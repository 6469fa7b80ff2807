/**
 * What this deployment serves: its aggregates and its declared projections. The projector runs
 * every projection listed here, the query route `GET /read-models/{name}/{key}` serves them, and
 * their storage (PROJECTIONS_TABLE) is created by the CDK stacks and the local runtime. Adding a
 * projection: declare it in its domain folder and add it here (README, "Changing a read model").
 */
import { orderAggregate, orderProjection } from '../domain/order';
import { customerSummaryProjection, removedLinesProjection } from '../domain/order/projections';
import { shoppingListAggregate } from '../domain/shopping-list';
import {
  ownerListsProjection,
  shoppingListRowProjection,
} from '../domain/shopping-list/projections';
import type { AnyRowProjection } from '../core/row-projection';

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
