import { VersionConflictError } from '../shared/errors';
import {
  CommandAlreadyRecordedError,
  type CommandRecord,
  commandRecordsOf,
  type EventStore,
  type LoadOptions,
} from './event-store';
import type { StoredEvent } from './events';
import { assertAppendable } from './append-rules';

/** In-memory adapter: for unit tests and for reasoning; same contract as DynamoDB. */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly commands = new Map<string, CommandRecord>();

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
    const records = commandRecordsOf(events);
    const taken = records.find((r) => this.commands.has(`${r.aggregateId}\n${r.commandId}`));
    if (taken) throw new CommandAlreadyRecordedError(taken.aggregateId, taken.commandId);
    this.streams.set(first.aggregateId, [...stream, ...structuredClone(events)]);
    for (const r of records) this.commands.set(`${r.aggregateId}\n${r.commandId}`, r);
  }

  async findCommand(aggregateId: string, commandId: string): Promise<CommandRecord | undefined> {
    const record = this.commands.get(`${aggregateId}\n${commandId}`);
    return record && { ...record };
  }
}
