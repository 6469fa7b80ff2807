/**
 * The event-store port. Adapters: DynamoDB (./dynamodb-event-store.ts) and in-memory
 * (./memory-event-store.ts); one contract suite (test/contract) runs against both.
 */
import type { StoredEvent } from './events';

export interface LoadOptions {
  /** Only events with a version greater than this. */
  readonly afterVersion?: number;
  /** Only events up to and including this version. */
  readonly toVersion?: number;
  /** At most this many events (one page). */
  readonly limit?: number;
}

export interface EventStore {
  /** Events of one aggregate in version order, strongly consistent. */
  load(aggregateId: string, options?: LoadOptions): Promise<StoredEvent[]>;
  /** The aggregate's latest version (0 when it has no events), strongly consistent. */
  currentVersion(aggregateId: string): Promise<number>;
  /**
   * Appends events of one aggregate, all or nothing. The first event's version must be the
   * aggregate's next version, else VersionConflictError (with the actual version).
   */
  append(events: readonly StoredEvent[]): Promise<void>;
}
