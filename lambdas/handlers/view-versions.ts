/**
 * The current version of a pushed row (the ViewVersions port of core/push/push.ts), read where
 * and as the notifier reads it from the stream: an item of the projections table, at the
 * version its `GET` serves, and the version of its aggregate it has applied (`applied[id]`).
 * The read is strongly consistent.
 */
import type { PushedView, ViewVersions } from '../core/push/push';
import { type ProjectionRowStore, storedKey } from '../core/projections/row-projection';
import type { PushedRows } from './notifier';

export const createViewVersions = (
  pushed: PushedRows,
  /** The projections table; its `get` is consistent. */
  projectionRows: ProjectionRowStore,
): ViewVersions => {
  const currentOf = async (view: PushedView, id: string) => {
    const declared = pushed.projections.find((p) => p.projection.name === view.name);
    if (!declared) throw new Error(`No table holds the rows of the pushed view ${view.name}`);
    // A collection's view is unsharded (checked with the collections): one item per row.
    const item = await projectionRows.get(storedKey(declared.projection, id));
    return { version: item?.applied[id] ?? 0, row: item?.view };
  };
  return {
    currentOf,
    versionOf: async (view, id) => (await currentOf(view, id)).version,
  };
};
