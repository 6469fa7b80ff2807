/**
 * The coupled profile: one Lambda serves the whole API. POST /commands loads, decides, and
 * appends the events together with the fresh read-model row in one transaction, so the read
 * model is never behind; it answers 200 with the row. GET routes are the query API's own.
 */
import type { AppendEvents, CommandResult, CommandRunner } from '../core/command-runner';
import type { DynamoDbEventStore } from '../core/dynamodb-event-store';
import type { DynamoDbReadModel } from '../core/dynamodb-read-model';
import { projectEvents, rowFor } from '../core/projection';
import type { OrderState, OrderView } from '../domain/order';
import {
  commandResultHeaders,
  type HttpEdgeDependencies,
  logCommandResult,
  readCommand,
  withHttpEdge,
} from './command-api';
import { AGGREGATE_VIEW } from './deployment';
import { json } from './http';
import { createQueryRoutes, dispatch, type QueryApiDependencies } from './query-api';

export interface CoupledApiDependencies extends QueryApiDependencies, HttpEdgeDependencies {
  /** A runner whose append writes the events and the read-model row in one transaction. */
  readonly runCommand: CommandRunner;
}

/** The view for a row of the response: `null` once the order is deleted. */
export const visibleOrder = (view: OrderView | null): OrderView | null =>
  view === null || AGGREGATE_VIEW.isDeleted(view) ? null : view;

/**
 * The row from the aggregate's folded state (the order row's reducer is the aggregate's own),
 * so neither the append nor the answer needs the whole history: the runner may have started
 * from a snapshot. `version` is the aggregate's: the projection counts events of another type
 * in the partition as versions too (lambdas/core/projection.ts, applyEvent).
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

export const createCoupledApiHandler = (deps: CoupledApiDependencies) => {
  // The row is written with its events: `?minVersion` never needs to wait here.
  const routes = createQueryRoutes({ ...deps, rowsWrittenWithEvents: true });
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
        // The row at `version`: for a replay too, so a resend answers exactly as the first time.
        // Only the order has a row here; another aggregate's answer has none (never its state
        // as an order).
        ...(isViewType(input.type) && { order: visibleOrder(await answerRowOf(deps, result)) }),
      },
      commandResultHeaders(result),
    );
  });
};

/** The coupled runner's append: events plus the row they lead to, all or nothing. */
export const appendWithRow =
  (store: DynamoDbEventStore, rows: DynamoDbReadModel<OrderView>): AppendEvents =>
  async (events, after) => {
    // Another aggregate's state is not an order: it gets no row in the order table.
    const view =
      events[0] && isViewType(events[0].type) ? orderRowOf(after.state, after.version) : null;
    await store.appendWith(events, view ? [rows.putItem(rowFor(AGGREGATE_VIEW, view))] : []);
  };
