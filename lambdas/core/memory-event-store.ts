import { VersionConflictError } from './errors';
import type { EventStore, LoadOptions } from './event-store';
import type { StoredEvent } from './events';
import { assertAppendable } from './append-rules';

/** In-memory adapter: for unit tests and for reasoning; same contract as DynamoDB. */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();

  async load(aggregateId: string, options: LoadOptions = {}): Promise<StoredEvent[]> {
    const { afterVersion = 0, toVersion = Number.MAX_SAFE_INTEGER, limit } = options;
    const events = (this.streams.get(aggregateId) ?? []).filter(
      (e) => e.version > afterVersion && e.version <= toVersion,
    );
    return structuredClone(limit === undefined ? events : events.slice(0, limit));
  }

  async currentVersion(aggregateId: string): Promise<number> {
    return this.streams.get(aggregateId)?.at(-1)?.version ?? 0;
  }

  async append(events: readonly StoredEvent[]): Promise<void> {
    const first = assertAppendable(events);
    if (!first) return;
    const stream = this.streams.get(first.aggregateId) ?? [];
    const actual = stream.at(-1)?.version ?? 0;
    if (first.version !== actual + 1) {
      throw new VersionConflictError(first.aggregateId, first.version - 1, actual);
    }
    this.streams.set(first.aggregateId, [...stream, ...structuredClone(events)]);
  }
}
