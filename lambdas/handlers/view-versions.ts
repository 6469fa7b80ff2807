/**
 * The current version of a pushed row (the ViewVersions port of core/push/push.ts), read where
 * and as the notifier reads it from the stream: a row of the read-model table carries its
 * `version`; an item of the projections table, at the version its `GET` serves, the version of
 * its aggregate it has applied (`applied[id]`). Both reads are strongly consistent.
 */
import type { PushedView, ViewVersions } from '../core/push/push';
import { type ProjectionRowStore, storedKey } from '../core/projections/row-projection';
import type { PushedRows } from './notifier';

export interface ViewVersionStores {
  /** The read-model table's rows (`viewRows`), read consistently. */
  readonly rows?: { get(id: string): Promise<{ readonly version: number } | undefined> };
  /** The projections table (`projections`); its `get` is consistent. */
  readonly projectionRows?: ProjectionRowStore;
}

export const createViewVersions = (
  pushed: PushedRows,
  stores: ViewVersionStores,
): ViewVersions => ({
  async versionOf(view: PushedView, id: string): Promise<number> {
    if (pushed.viewRows?.name === view.name && stores.rows) {
      return (await stores.rows.get(id))?.version ?? 0;
    }
    const declared = pushed.projections.find((p) => p.projection.name === view.name);
    if (!declared || !stores.projectionRows) {
      throw new Error(`No table holds the rows of the pushed view ${view.name}`);
    }
    // A collection's view is unsharded (checked with the collections): one item per row.
    const item = await stores.projectionRows.get(storedKey(declared.projection, id));
    return item?.applied[id] ?? 0;
  },
});
