/**
 * Collections: an aggregate served under its own URL segment (`GET /{collection}/{id}`,
 * `/events`, `/history`), its view a declared projection (one row per aggregate, keyed by the
 * aggregate's id, written by the row projector). The deployment list declares them
 * (lambdas/handlers/deployment.ts); nothing else names a domain's routes.
 */
import type { AnyAggregate } from '../command/aggregate';
import type { EventAction } from '../events/events';
import type { ReadRule } from '../identity/authorization';
import {
  advanceSource,
  type AnyRowProjection,
  type RowProjection,
  shardsOf,
} from './row-projection';
import { checkLists } from './row-lists';

export interface CollectionDeclaration {
  /** The URL segment, kebab-case and plural by convention, e.g. `shopping-lists`. */
  readonly collection: string;
  /** The aggregate whose ids the collection serves; `/history` folds its reducer. */
  readonly aggregate: AnyAggregate;
  /**
   * Its view: a declared projection of `aggregate` whose row key is the aggregate's id (so the
   * row of `{id}` is the view of that aggregate), unsharded, and a function of the aggregate's
   * state (its reducer may ignore the row it is given: the coupled stack folds a command's
   * events onto no row, see `viewRowAfter`). It must be listed in the deployment's projections:
   * its served version is the one `GET /read-models` serves.
   */
  readonly view: AnyRowProjection;
  /** A row the view keeps for a deleted aggregate (answered 404). @default none is */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly isDeleted?: (row: any) => boolean;
}

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * The declarations, checked: each collection kebab-case, not a segment another route owns
 * (`reserved`: the static first segments of the route table) and unique; its aggregate
 * in the deployment; its view a listed projection whose source is that aggregate; and every
 * projection's lists (./row-lists.ts, checkLists), declared on a collection's view only. Throws
 * at module load (cold start), never serves a half-declared collection.
 */
export const checkCollections = <C extends CollectionDeclaration>(
  collections: readonly C[],
  deployment: {
    readonly aggregates: readonly AnyAggregate[];
    readonly projections: readonly AnyRowProjection[];
    /** First path segments of other routes: the collection would be shadowed by them. */
    readonly reserved: readonly string[];
  },
): readonly C[] => {
  const seen = new Set<string>();
  for (const { collection, aggregate, view } of collections) {
    const fail = (why: string) => {
      throw new Error(`Collection "${collection}": ${why}`);
    };
    if (!KEBAB_CASE.test(collection)) fail('must be kebab-case (a-z, 0-9, single dashes)');
    if (deployment.reserved.includes(collection)) {
      fail(`is reserved (${deployment.reserved.join(', ')} are other routes' segments)`);
    }
    if (seen.has(collection)) fail('is declared twice');
    seen.add(collection);
    if (!deployment.aggregates.includes(aggregate)) {
      fail(`its aggregate ${aggregate.type} is not in the deployment's aggregates`);
    }
    if (view.source.type !== aggregate.type) {
      fail(`its view ${view.name} reads ${view.source.type}, not ${aggregate.type}`);
    }
    if (!deployment.projections.some((p) => p.name === view.name)) {
      fail(`its view ${view.name} is not in the deployment's projections`);
    }
    if (shardsOf(view) !== 1)
      fail(`its view ${view.name} is sharded: one row per aggregate is not`);
  }
  for (const projection of deployment.projections) {
    checkLists(projection);
    const served = collections.some(({ view }) => view.name === projection.name);
    if ((projection.lists ?? []).length > 0 && !served) {
      throw new Error(
        `Projection ${projection.name}: declares lists, but lists are served for a collection's view only`,
      );
    }
  }
  return collections;
};

/**
 * The view row of `aggregateId` after a command's `events`, decided on `before` (the
 * aggregate's state): the coupled stack writes it with the events. Folded from no row, so the
 * view must be a function of the aggregate's state (the conformance test holds every
 * collection to it). `undefined` when no event changes the row.
 */
export const viewRowAfter = (
  view: AnyRowProjection,
  aggregateId: string,
  events: readonly EventAction[],
  before: unknown,
): { readonly row: unknown; readonly version: number } | undefined => {
  let state = before ?? view.source.initialState;
  let changed: { row: unknown; version: number } | undefined;
  for (const event of events) {
    if (view.eventTypes.includes(event.type) && view.rowKey(event, state) === aggregateId) {
      changed = { row: view.reducer(changed?.row, event, state), version: event.meta.version };
    }
    state = advanceSource(view, state, event);
  }
  return changed;
};

/** The command API's aggregate ids: what the row key of an aggregate's view may be. */
export const AGGREGATE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The usual view of a collection: the aggregate's own state. One row per aggregate, keyed by
 * its id, from the event that creates it on, each row the aggregate's reducer folded (so the row
 * and the state cannot disagree, and the coupled stack can fold it from the state alone). An
 * event that would leave no state is a reducer bug: it throws, and the projector reports it as a
 * poison event.
 */
export const aggregateView = <State, View extends NonNullable<State>>(
  declaration: Pick<RowProjection<View, State>, 'name' | 'version' | 'eventTypes' | 'lists'> & {
    /** The aggregate: its reducer folds the row, its `canRead` says who reads it. */
    readonly source: RowProjection<View, State>['source'] & { readonly canRead: ReadRule<State> };
    /** The event that creates the aggregate: before it, the id has no row. */
    readonly createdBy: string;
  },
): RowProjection<View, State> => {
  const { name, version, source, eventTypes, createdBy, lists } = declaration;
  const fold = source.reducer as (state: State, event: EventAction) => State;
  return {
    name,
    version,
    source,
    eventTypes,
    rowKey: (event, before) =>
      (before !== null && before !== undefined) || event.type === createdBy
        ? event.meta.aggregateId
        : undefined,
    reducer: (_row, event, before) => {
      const after = fold(before, event);
      if (after === null || after === undefined) {
        throw new Error(`${event.type} of ${event.meta.aggregateId} applies to no ${source.type}`);
      }
      return after as View;
    },
    keyPattern: AGGREGATE_ID_PATTERN,
    // The row is the state: who may read the aggregate reads its row.
    canRead: (principal, row) => source.canRead(principal, row),
    ...(lists && { lists }),
  };
};
