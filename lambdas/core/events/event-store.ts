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
  /**
   * Only the newest this many events (of those after `afterVersion`), still in version order:
   * the command runner reads them beside the snapshot, in one round trip.
   */
  readonly newest?: number;
}

/**
 * The idempotency marker of one `commandId`: written for the events a snapshot covers, before
 * that snapshot is stored, so a resent command is recognised after the runner stops reading
 * those events (docs/decisions/single-item-appends.md).
 */
export interface CommandRecord {
  readonly aggregateId: string;
  readonly commandId: string;
  readonly commandHash: string;
  /** The versions its events took, first and last. */
  readonly firstVersion: number;
  readonly lastVersion: number;
}

/** One record per commandId of these events (the events of one append are consecutive). */
export const commandRecordsOf = (events: readonly StoredEvent[]): CommandRecord[] => {
  const records = new Map<string, CommandRecord>();
  for (const e of events) {
    if (!e.commandId) continue;
    const seen = records.get(e.commandId);
    records.set(e.commandId, {
      aggregateId: e.aggregateId,
      commandId: e.commandId,
      commandHash: seen?.commandHash ?? e.commandHash,
      firstVersion: seen?.firstVersion ?? e.version,
      lastVersion: e.version,
    });
  }
  return [...records.values()];
};

export interface EventStore {
  /** Events of one aggregate in version order, strongly consistent. */
  load(aggregateId: string, options?: LoadOptions): Promise<StoredEvent[]>;
  /** The aggregate's latest version (0 when it has no events), strongly consistent. */
  currentVersion(aggregateId: string): Promise<number>;
  /**
   * Appends events of one aggregate, all or nothing. The first event's version must be the
   * aggregate's next version, else VersionConflictError (with the actual version): a version
   * taken, or a version skipped (docs/decisions/honest-appends.md).
   */
  append(events: readonly StoredEvent[]): Promise<void>;
  /**
   * Stores these markers; writing one again is harmless (its content follows from its events). The command runner calls it for
   * the events a snapshot will cover, before it stores that snapshot. Optional, with
   * `findCommand`: a store without markers (a reader) records nothing.
   */
  recordCommands?(records: readonly CommandRecord[]): Promise<void>;
  /** The marker of this commandId, strongly consistent; undefined when there is none. */
  findCommand?(aggregateId: string, commandId: string): Promise<CommandRecord | undefined>;
}

/** An event's key in the event table. */
export interface EventKey {
  readonly aggregateId: string;
  readonly version: number;
}

/** One event of a full scan, decoded on demand: an unreadable one throws CorruptEventError. */
export interface ScannedEvent {
  readonly key: EventKey;
  decode(): StoredEvent;
}

/**
 * A parallel scan of the whole event table (rebuilds). A page holds an aggregate's events
 * together and in version order; an aggregate may continue on the next page.
 */
export interface EventScan {
  page(request: {
    readonly segment: number;
    readonly segments: number;
    /** Resume right after this event (absent: from the segment's start). */
    readonly after?: EventKey;
    /** Items per page (default: the store's own page size). */
    readonly limit?: number;
  }): Promise<{
    readonly events: readonly ScannedEvent[];
    /** Where the next page starts (`after`); absent once the segment is read to its end. */
    readonly next?: EventKey;
  }>;
}
