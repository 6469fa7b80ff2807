import type { SnapshotStore } from '../../lambdas/core/command/snapshots';

/**
 * The snapshot of `id` once one at `version` or later is stored (polled up to 10 s; then what
 * is there). A command saves its snapshot after it answers, within a budget of its own, so a
 * test that reads it right after the answer may be early.
 */
export const savedSnapshot = async (store: SnapshotStore, id: string, key: string, version = 1) => {
  for (const deadline = Date.now() + 10_000; ;) {
    const snapshot = await store.load(id, key);
    if ((snapshot && snapshot.version >= version) || Date.now() > deadline) return snapshot;
    await new Promise((r) => setTimeout(r, 20));
  }
};
