/**
 * Snapshots: an aggregate's folded state at a version, so a command reads one item and the
 * events after it instead of the whole history. The port, the key that invalidates itself when
 * the reducer changes, the stored shape and its check, and the in-memory adapter (DynamoDB:
 * ./dynamodb-snapshot-store.ts). A snapshot holds state, never events: upcasting still applies
 * to every event read after it. See docs/decisions/snapshots.md.
 */
import type { AnyAggregate } from './aggregate';
import { canonicalJson, sha256 } from './canonical-json';

/** Take a snapshot once this many events lie past the last one (or the start). */
export const DEFAULT_SNAPSHOT_EVERY = 100;

export interface Snapshot {
  readonly aggregateId: string;
  /** `snapshotKeyOf(aggregate)`: which reducer folded this state. */
  readonly snapshotKey: string;
  /** The aggregate's version the state was folded to (the last event's version). */
  readonly version: number;
  readonly state: unknown;
}

export interface SnapshotStore {
  /**
   * The snapshot under this key, strongly consistent; undefined when there is none. Throws
   * CorruptSnapshotError when the stored item cannot be trusted.
   */
  load(aggregateId: string, snapshotKey: string): Promise<Snapshot | undefined>;
  /**
   * Stores the snapshot unless one at the same or a higher version is already there (a snapshot
   * never moves back). Answers whether it was written.
   */
  save(snapshot: Snapshot): Promise<boolean>;
}

/** A stored snapshot that fails its checks: the runner ignores it and reads the full history. */
export class CorruptSnapshotError extends Error {
  constructor(aggregateId: string, reason: string) {
    super(`Snapshot of ${aggregateId} is unreadable: ${reason}`);
    this.name = 'CorruptSnapshotError';
  }
}

const keys = new WeakMap<AnyAggregate, string>();

/**
 * `<type>@v<snapshotVersion>#<hash>`, the hash over the reducer's source and the initial state
 * (computed once per aggregate). A new snapshotVersion or an edited reducer is a new key, so
 * old snapshots are simply not found; nobody has to delete them.
 */
export const snapshotKeyOf = (aggregate: AnyAggregate): string => {
  let key = keys.get(aggregate);
  if (key === undefined) {
    const hash = sha256(
      `${aggregate.reducer.toString()}\n${canonicalJson(aggregate.initialState ?? null)}`,
    ).slice(0, 16);
    key = `${aggregate.type}@v${aggregate.snapshotVersion ?? 1}#${hash}`;
    keys.set(aggregate, key);
  }
  return key;
};

/** The stored form: the state as JSON text plus its hash, so a damaged item is recognised. */
export interface StoredSnapshot {
  readonly aggregateId: string;
  readonly snapshotKey: string;
  readonly version: number;
  readonly state: string;
  readonly stateHash: string;
  readonly takenAt: string;
}

export const encodeSnapshot = (snapshot: Snapshot, takenAt: string): StoredSnapshot => {
  const state = JSON.stringify(snapshot.state ?? null);
  return {
    aggregateId: snapshot.aggregateId,
    snapshotKey: snapshot.snapshotKey,
    version: snapshot.version,
    state,
    stateHash: sha256(state),
    takenAt,
  };
};

/** Checks a stored item and returns the snapshot, or throws CorruptSnapshotError. */
export const decodeSnapshot = (
  item: Record<string, unknown>,
  aggregateId: string,
  snapshotKey: string,
): Snapshot => {
  const { version, state, stateHash } = item;
  const fail = (reason: string) => new CorruptSnapshotError(aggregateId, reason);
  if (item.aggregateId !== aggregateId || item.snapshotKey !== snapshotKey) {
    throw fail('key fields do not match');
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw fail('version is not a positive integer');
  }
  if (typeof state !== 'string' || typeof stateHash !== 'string') throw fail('state missing');
  if (sha256(state) !== stateHash) throw fail('state does not match its hash');
  try {
    return { aggregateId, snapshotKey, version, state: JSON.parse(state) as unknown };
  } catch {
    throw fail('state is not JSON');
  }
};

/** In-memory adapter: same contract as DynamoDB (test/contract/event-store.contract.test.ts). */
export class MemorySnapshotStore implements SnapshotStore {
  readonly items = new Map<string, Record<string, unknown>>();

  async load(aggregateId: string, snapshotKey: string): Promise<Snapshot | undefined> {
    const item = this.items.get(`${aggregateId}\n${snapshotKey}`);
    return item && decodeSnapshot(structuredClone(item), aggregateId, snapshotKey);
  }

  async save(snapshot: Snapshot): Promise<boolean> {
    const key = `${snapshot.aggregateId}\n${snapshot.snapshotKey}`;
    const existing = this.items.get(key);
    if (typeof existing?.version === 'number' && existing.version >= snapshot.version) return false;
    this.items.set(key, { ...encodeSnapshot(snapshot, new Date().toISOString()) });
    return true;
  }
}
