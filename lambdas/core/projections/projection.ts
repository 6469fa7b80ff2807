/**
 * Read-model projections: a reducer folded over an aggregate's events, stored one row per
 * aggregate with the version of the last event applied. A domain declares one (name, version,
 * aggregate type, reducer, tombstone rule, list indexes); the deployment names it
 * (lambdas/handlers/deployment.ts), and its table, push topics and messages are derived here.
 */
import type { Reducer } from 'redux';
import { type EventAction, isOwnEvent, type StoredEvent, toAction } from '../events/events';
import type { IndexDefinition, KeyAttribute, TableDefinition } from '../shared/schema';

export interface ProjectedView {
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
}

export interface ProjectionDefinition<View extends ProjectedView> {
  /** URL- and topic-safe name: push topics are `<name>#<id>`, messages `<name>/changed`. */
  readonly name: string;
  /** Bumped when the row's shape or meaning changes (a new version needs a rebuild). */
  readonly version: number;
  /** Events of other aggregate types are not this projection's concern. */
  readonly aggregateType: string;
  readonly reducer: Reducer<View | null, EventAction>;
  /** A deleted view is stored as a tombstone: it leaves every index, and replays cannot revive it. */
  readonly isDeleted: (view: View) => boolean;
  /** The global secondary indexes its list routes query (sparse, over the row's attributes). */
  readonly indexes: readonly IndexDefinition[];
}

/** Every one-row-per-aggregate table is keyed by the aggregate's id, `id` (part of every index key). */
export const VIEW_ROW_KEY: KeyAttribute = { name: 'id', type: 'S' };

/** The table a projection's rows live in: derived from its declaration, read by CDK and local. */
export const viewTableOf = (projection: { readonly indexes: readonly IndexDefinition[] }) =>
  ({ partitionKey: VIEW_ROW_KEY, indexes: projection.indexes }) satisfies TableDefinition;

/** What a deleted view leaves behind: enough to skip replayed events. */
export interface Tombstone {
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly deleted: true;
}

export type ReadModelRow<View> = View | Tombstone;

export const isTombstone = <View>(row: ReadModelRow<View>): row is Tombstone =>
  (row as Partial<Tombstone>).deleted === true;

/** The row to store for a view: the view itself, or a tombstone when it is deleted. */
export const rowFor = <View extends ProjectedView>(
  projection: ProjectionDefinition<View>,
  view: View,
): ReadModelRow<View> =>
  projection.isDeleted(view)
    ? { id: view.id, version: view.version, updatedAt: view.updatedAt, deleted: true }
    : view;

/** Another writer stored a newer row first; the projector re-reads and tries again. */
export class StaleRowError extends Error {
  constructor(id: string) {
    super(`Read-model row ${id} changed while it was being projected`);
    this.name = 'StaleRowError';
  }
}

/** An event found in this projection's partition that is not its aggregate's own (isOwnEvent). */
export const isForeign = (projection: { aggregateType: string }, event: StoredEvent) =>
  !isOwnEvent(projection.aggregateType, event);

/**
 * Applies one event. A foreign event (not the aggregate's own: another aggregate type, or a type
 * outside its namespace, which the API never writes: see docs/decisions/foreign-events.md)
 * changes nothing but still counts as a version, so the view's version is always the log's
 * version.
 */
export const applyEvent = <View extends ProjectedView>(
  projection: ProjectionDefinition<View>,
  view: View | null,
  event: StoredEvent,
): View | null =>
  isForeign(projection, event)
    ? view && { ...view, version: event.version }
    : projection.reducer(view, toAction(event));

/** The view after `events` (in version order), starting from `from` (default: nothing yet). */
export const projectEvents = <View extends ProjectedView>(
  projection: ProjectionDefinition<View>,
  events: readonly StoredEvent[],
  from: View | null = null,
): View | null => events.reduce<View | null>((view, e) => applyEvent(projection, view, e), from);
