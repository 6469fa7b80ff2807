import { VersionConflictError } from '../shared/errors';
import type { CommandRecord, EventStore, LoadOptions } from './event-store';
import type { StoredEvent } from './events';
import { assertAppendable } from './append-rules';

/** In-memory adapter: for unit tests and for reasoning; same contract as DynamoDB. */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly commands = new Map<string, CommandRecord>();

  async load(aggregateId: string, options: LoadOptions = {}): Promise<StoredEvent[]> {
    const { afterVersion = 0, toVersion = Number.MAX_SAFE_INTEGER, limit, newest } = options;
    let events = (this.streams.get(aggregateId) ?? []).filter(
      (e) => e.version > afterVersion && e.version <= toVersion,
    );
    if (newest !== undefined) events = events.slice(Math.max(0, events.length - newest));
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

  async recordCommands(records: readonly CommandRecord[]): Promise<void> {
    for (const r of records) this.commands.set(`${r.aggregateId}\n${r.commandId}`, { ...r });
  }

  async findCommand(aggregateId: string, commandId: string): Promise<CommandRecord | undefined> {
    const record = this.commands.get(`${aggregateId}\n${commandId}`);
    return record && { ...record };
  }
}
