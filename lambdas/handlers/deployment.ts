/**
 * What this deployment serves: its aggregates and its declared projections. The projector runs
 * every projection listed here, the query route `GET /read-models/{name}/{key}` serves them, and
 * their storage (PROJECTIONS_TABLE) is created by the CDK stacks and the local runtime. Adding a
 * projection: declare it in its domain folder and add it here (README, "Changing a read model").
 */
import { orderAggregate } from '../domain/order';
import { customerSummaryProjection, removedLinesProjection } from '../domain/order/projections';
import type { AnyRowProjection } from '../core/row-projection';

export const AGGREGATES = [orderAggregate];

export const PROJECTIONS: readonly AnyRowProjection[] = [
  customerSummaryProjection,
  removedLinesProjection,
];
