/**
 * Read-model projections: a reducer folded over an aggregate's events, stored one row per
 * aggregate with the version of the last event applied.
 */
import type { Reducer } from 'redux';
import { type EventAction, type StoredEvent, toAction } from './events';

export interface ProjectedView {
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
}

export interface ProjectionDefinition<View extends ProjectedView> {
  /** Events of other aggregate types are not this projection's concern. */
  readonly aggregateType: string;
  readonly reducer: Reducer<View | null, EventAction>;
  /** A deleted view is stored as a tombstone: it leaves every index, and replays cannot revive it. */
  readonly isDeleted: (view: View) => boolean;
}

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

/** The view after `events` (in version order), starting from `from` (default: nothing yet). */
export const projectEvents = <View extends ProjectedView>(
  projection: ProjectionDefinition<View>,
  events: readonly StoredEvent[],
  from: View | null = null,
): View | null =>
  events.reduce<View | null>((view, e) => projection.reducer(view, toAction(e)), from);
