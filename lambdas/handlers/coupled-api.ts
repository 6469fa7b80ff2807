/**
 * The coupled profile: one Lambda serves the whole API. POST /commands loads, decides, and
 * appends the events together with the aggregate's fresh view in one transaction (the order
 * row in its table; a collection's view in the projections table), so the view is never
 * behind; it answers 200 with the row under the view's name. GET routes are the query API's own.
 */
import type { CollectionDeclaration } from '../core/projections/collections';
import { viewRowAfter } from '../core/projections/collections';
import type { AppendEvents, CommandResult, CommandRunner } from '../core/command/command-runner';
import type { DynamoDbEventStore, TransactItem } from '../core/events/dynamodb-event-store';
import type { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import type { DynamoDbReadModel } from '../core/projections/dynamodb-read-model';
import { toAction } from '../core/events/events';
import { projectEvents, rowFor } from '../core/projections/projection';
import { foldRows } from '../core/projections/row-projection';
import type { OrderState, OrderView } from '../domain/order';
import {
  commandResultHeaders,
  type HttpEdgeDependencies,
  logCommandResult,
  readCommand,
  withHttpEdge,
} from './http-edge';
import { AGGREGATE_VIEW } from './deployment';
import { json } from './http';
import { createQueryRoutes, dispatch, type QueryApiDependencies } from './query-api';

export interface CoupledApiDependencies extends QueryApiDependencies, HttpEdgeDependencies {
  /** A runner whose append writes the events and the aggregate's view in one transaction. */
  readonly runCommand: CommandRunner;
  /** The collections whose views the append writes (each at its served version). */
  readonly collections?: readonly CollectionDeclaration[];
}

/** The view for a row of the response: `null` once the order is deleted. */
export const visibleOrder = (view: OrderView | null): OrderView | null =>
  view === null || AGGREGATE_VIEW.isDeleted(view) ? null : view;

/**
 * The row from the aggregate's folded state (the order row's reducer is the aggregate's own),
 * so neither the append nor the answer needs the whole history: the runner may have started
 * from a snapshot. `version` is the aggregate's: the projection counts events of another type
 * in the partition as versions too (lambdas/core/projections/projection.ts, applyEvent).
 */
export const orderRowOf = (state: unknown, version: number): OrderView | null => {
  const view = state as OrderState;
  return view && (view.version === version ? view : { ...view, version });
};

/** Whether a command or an event belongs to the aggregate whose row this stack writes. */
const isViewType = (type: string) => type.startsWith(`${AGGREGATE_VIEW.aggregateType}/`);

/**
 * The row an answer carries: the one the command led to. A replay answers exactly as the first
 * time (docs/decisions/replay-is-the-original-answer.md): the runner hands back the state
 * at the original version when the events it read reach back to it; otherwise (a snapshot newer
 * than that version) the row is recomputed from the log up to it. Paid only by such resends.
 */
const answerRowOf = async (
  deps: Pick<CoupledApiDependencies, 'events'>,
  result: CommandResult,
): Promise<OrderView | null> => {
  if (result.stateVersion === result.version) return orderRowOf(result.state, result.stateVersion);
  const events = await deps.events.load(result.aggregateId, { toVersion: result.version });
  return projectEvents(AGGREGATE_VIEW, events);
};

/** The collection whose aggregate a command (or its events) belongs to, by type prefix. */
const collectionOf = (collections: readonly CollectionDeclaration[], type: string) =>
  collections.find((c) => type.startsWith(`${c.aggregate.type}/`));

/**
 * A collection's view row in an answer: the one the command led to (`null` once deleted).
 * Folded from the command's events and the state they were decided on, as the append wrote it;
 * a replay's from the log up to its version (paid only by resends).
 */
const collectionRowOf = async (
  deps: Pick<CoupledApiDependencies, 'events'>,
  collection: CollectionDeclaration,
  result: CommandResult,
): Promise<unknown> => {
  const { view, isDeleted } = collection;
  const row = result.replayed
    ? foldRows(view, [
        (await deps.events.load(result.aggregateId, { toVersion: result.version })).map(toAction),
      ]).get(result.aggregateId)
    : viewRowAfter(view, result.aggregateId, result.events.map(toAction), result.stateBefore)?.row;
  return row === undefined || isDeleted?.(row) ? null : row;
};

export const createCoupledApiHandler = (deps: CoupledApiDependencies) => {
  // The row is written with its events: `?minVersion` never needs to wait here.
  const routes = createQueryRoutes({ ...deps, rowsWrittenWithEvents: true });
  const collections = deps.collections ?? [];
  const collectionAnswer = async (type: string, result: CommandResult) => {
    const collection = collectionOf(collections, type);
    return collection
      ? { [collection.view.name]: await collectionRowOf(deps, collection, result) }
      : {};
  };
  return withHttpEdge(deps, async (event, correlationId, log, lambda) => {
    if (event.routeKey !== 'POST /commands') return dispatch(routes, event, lambda);
    const { input, context } = readCommand(event, correlationId, deps, lambda);
    const result = await deps.runCommand(input, { ...context, log });
    logCommandResult(log, input, result);
    return json(
      200,
      {
        aggregateId: result.aggregateId,
        version: result.version,
        events: result.events,
        // The row at `version`, under its view's name: for a replay too, so a resend answers
        // exactly as the first time. Each aggregate's own view, never another's.
        ...(isViewType(input.type) && { order: visibleOrder(await answerRowOf(deps, result)) }),
        ...(await collectionAnswer(input.type, result)),
      },
      commandResultHeaders(result),
    );
  });
};

/**
 * The coupled runner's append: events plus the view they lead to, all or nothing. An order's
 * row goes to the order table; a collection's view (at its served version) to the projections
 * table, with its checkpoint, so the coupled projector skips those events. Other versions of
 * the view, and the read models fed by many aggregates, stay the projector's.
 */
export const appendWithViews =
  (
    store: DynamoDbEventStore,
    rows: DynamoDbReadModel<OrderView>,
    views?: {
      readonly collections: readonly CollectionDeclaration[];
      readonly rows: DynamoDbProjectionRows;
    },
  ): AppendEvents =>
  async (events, after) => {
    const first = events[0];
    const writes: TransactItem[] = [];
    // Another aggregate's state is not an order: it gets no row in the order table.
    if (first && isViewType(first.type)) {
      const view = orderRowOf(after.state, after.version);
      if (view) writes.push(rows.putItem(rowFor(AGGREGATE_VIEW, view)));
    }
    const collection = first && views && collectionOf(views.collections, first.type);
    if (first && views && collection) {
      const changed = viewRowAfter(
        collection.view,
        first.aggregateId,
        events.map(toAction),
        after.before,
      );
      if (changed) {
        writes.push(
          views.rows.writeViewItem(
            collection.view,
            first.aggregateId,
            changed.row,
            changed.version,
          ),
        );
      }
    }
    await store.appendWith(events, writes);
  };
