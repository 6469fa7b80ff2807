/**
 * The coupled profile: one Lambda serves the whole API. POST /commands loads, decides, and
 * appends the events together with the aggregate's fresh view (its collection's, in the
 * projections table) in one transaction, so the view is never behind; it answers 200 with the
 * row under the view's name. GET routes are the query API's own.
 */
import type { CollectionDeclaration } from '../core/projections/collections';
import { viewRowAfter } from '../core/projections/collections';
import type { AppendEvents, CommandResult, CommandRunner } from '../core/command/command-runner';
import type { DynamoDbEventStore, TransactItem } from '../core/events/dynamodb-event-store';
import type { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import { toAction } from '../core/events/events';
import { changedRowOf, PUSHED_BY_ATTRIBUTE, pushedEventOf } from '../core/push/push';
import type { WriterPush } from './push-wiring';
import { foldRows } from '../core/projections/row-projection';
import {
  commandResultHeaders,
  type HttpEdgeDependencies,
  logCommandResult,
  readCommand,
  withHttpEdge,
} from './http-edge';
import { json } from './http';
import { createQueryRoutes, dispatch, type QueryApiDependencies } from './query-api';

export interface CoupledApiDependencies extends QueryApiDependencies, HttpEdgeDependencies {
  /** A runner whose append writes the events and the aggregate's view in one transaction. */
  readonly runCommand: CommandRunner;
  /** The collections whose views the append writes (each at its served version). */
  readonly collections?: readonly CollectionDeclaration[];
}

/** The collection whose aggregate a command (or its events) belongs to, by type prefix. */
const collectionOf = (collections: readonly CollectionDeclaration[], type: string) =>
  collections.find((c) => type.startsWith(`${c.aggregate.type}/`));

/**
 * A collection's view row in an answer: the one the command led to (`null` once deleted).
 * Folded from the command's events and the state they were decided on, as the append wrote it
 * (a replay too, when the runner's reads reach back to that state); else a replay's from the
 * log up to its version (paid only by resends from behind a newer snapshot).
 */
const collectionRowOf = async (
  deps: Pick<CoupledApiDependencies, 'events'>,
  collection: CollectionDeclaration,
  result: CommandResult,
): Promise<unknown> => {
  const { view, isDeleted } = collection;
  const row =
    result.replayed && result.stateBefore === undefined
      ? foldRows(view, [
          (await deps.events.load(result.aggregateId, { toVersion: result.version })).map(toAction),
        ]).get(result.aggregateId)
      : viewRowAfter(view, result.aggregateId, result.events.map(toAction), result.stateBefore)
          ?.row;
  return row === undefined || isDeleted?.(row) ? null : row;
};

export const createCoupledApiHandler = (deps: CoupledApiDependencies) => {
  const routes = createQueryRoutes(deps);
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
        ...(await collectionAnswer(input.type, result)),
      },
      commandResultHeaders(result),
    );
  });
};

/**
 * The coupled runner's append: events plus the view they lead to, all or nothing. The
 * aggregate's collection's view (at its served version) goes to the projections table, with
 * its checkpoint, so the coupled projector skips those events. Other versions of the view, and
 * the read models fed by many aggregates, stay the projector's. With `push`, the row is marked
 * as its own to push and posted to its subscribers right after the transaction commits (the
 * answer waits for that, within the push's budget), so a push is as fresh as the answer;
 * without, it is left to the notifier on the projections table's stream.
 */
export const appendWithViews =
  (
    store: DynamoDbEventStore,
    views?: {
      readonly collections: readonly CollectionDeclaration[];
      readonly rows: DynamoDbProjectionRows;
    },
    push?: WriterPush,
  ): AppendEvents =>
  async (events, after) => {
    const first = events[0];
    const writes: TransactItem[] = [];
    const collection = first && views && collectionOf(views.collections, first.type);
    const changed =
      first && collection
        ? viewRowAfter(collection.view, first.aggregateId, events.map(toAction), after.before)
        : undefined;
    if (first && views && collection && changed) {
      writes.push(
        // Marked with who posts it, or the mark removed: the notifier then pushes it.
        views.rows.writeViewItem(collection.view, first.aggregateId, changed.row, changed.version, {
          name: PUSHED_BY_ATTRIBUTE,
          value: push?.pushedBy,
        }),
      );
    }
    await store.appendWith(events, writes);
    if (push && first && collection && changed) {
      await push.push([
        changedRowOf(
          collection.view,
          first.aggregateId,
          changed.version,
          changed.row,
          collection.isDeleted,
          // The subscriber may fold them instead of taking the row.
          events.map(pushedEventOf),
        ),
      ]);
    }
  };
