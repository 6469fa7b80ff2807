/**
 * DynamoDB adapter of the event-store port.
 * An append is one conditional Put per event (attribute_not_exists(version)); a single event
 * is one PutItem. It is honest (never skips a version, docs/decisions/honest-appends.md)
 * because the store only leaves out the ConditionCheck on version - 1 when it has itself read
 * that version (events are never deleted, so what it read stays true); otherwise the append is a
 * TransactWriteItems with that check. Idempotency markers are not written per append: the
 * command runner records them with `recordCommands` for the events a snapshot is about to cover
 * (docs/decisions/single-item-appends.md). `appendWith` carries the caller's other writes (the
 * coupled profile's rows) in the same transaction.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { assertAppendable } from './append-rules';
import { assertItemFits, throttlingOf } from '../shared/dynamodb-limits';
import {
  CorruptEventError,
  TransactionConflictError,
  VersionConflictError,
} from '../shared/errors';
import { decodeStoredEvent } from './event-codec';
import { LatestVersions } from '../shared/latest-versions';
import {
  type CommandRecord,
  type EventStore,
  type LoadOptions,
  type EventScan,
} from './event-store';
import type { StoredEvent } from './events';
import { COMMANDS_TABLE, EVENT_TABLE } from '../shared/schema';

/** DynamoDB's limit on the items of one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

const PK = EVENT_TABLE.partitionKey.name;
const SK = EVENT_TABLE.sortKey.name;

/** One element of a TransactWriteItems request, in the document client's shape. */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

type RawItem = Record<string, AttributeValue>;

/** The raw key of an item, as a name for an operator (works even when the item is unreadable). */
const rawName = (item: RawItem) => ({
  aggregateId: item[PK]?.S ?? '(unknown)',
  version: item[SK]?.N ?? '(unknown)',
});

/**
 * One raw event-table item (a Query result or a stream NewImage) through the event codec.
 * Items are unmarshalled one by one, so an unreadable one is named and fails alone.
 */
export const decodeEventItem = (item: RawItem): StoredEvent => {
  let plain: unknown;
  try {
    plain = unmarshall(item);
  } catch (error) {
    const { aggregateId, version } = rawName(item);
    throw new CorruptEventError(
      aggregateId,
      version,
      error instanceof Error ? error.message : String(error),
    );
  }
  return decodeStoredEvent(plain);
};

export interface DynamoDbEventStoreOptions {
  /**
   * COMMANDS_TABLE: where `recordCommands` writes the idempotency markers. Absent (readers:
   * projector, query), nothing is recorded and findCommand finds nothing.
   */
  readonly commandsTable?: string;
}

/** BatchWriteItem's limit on the items of one request. */
const BATCH_WRITE_ITEMS = 25;

/** Marker batches sent side by side. */
const MARKER_BATCHES_AT_ONCE = 8;

export class DynamoDbEventStore implements EventStore {
  /**
   * The highest version this store has seen exist, per aggregate (consistent reads and its own
   * appends). Versions are gapless and never deleted, so every version up to it exists: an
   * append right after it needs no ConditionCheck.
   */
  private readonly heads = new LatestVersions();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly options: DynamoDbEventStoreOptions = {},
  ) {}

  async recordCommands(records: readonly CommandRecord[]): Promise<void> {
    const table = this.options.commandsTable;
    if (!table) return;
    const batches: CommandRecord[][] = [];
    for (let start = 0; start < records.length; start += BATCH_WRITE_ITEMS) {
      batches.push(records.slice(start, start + BATCH_WRITE_ITEMS));
    }
    // A first snapshot of a long history covers many commands: a few batches at a time.
    for (let next = 0; next < batches.length; next += MARKER_BATCHES_AT_ONCE) {
      await Promise.all(
        batches
          .slice(next, next + MARKER_BATCHES_AT_ONCE)
          .map((batch) => this.writeMarkers(table, batch)),
      );
    }
  }

  private async writeMarkers(table: string, batch: readonly CommandRecord[]): Promise<void> {
    let requests: NonNullable<
      ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
    >[string] = batch.map((record) => ({ PutRequest: { Item: { ...record } } }));
    // DynamoDB may leave some items unprocessed (throttling): send those again, a few times.
    for (let attempt = 1; requests.length > 0; attempt++) {
      if (attempt > 5) {
        throw new Error(`Idempotency markers not all written: ${requests.length} left`);
      }
      let answer;
      try {
        answer = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests } }),
        );
      } catch (error) {
        throw throttlingOf(error) ?? error;
      }
      requests = answer.UnprocessedItems?.[table] ?? [];
      if (requests.length > 0) await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
    }
  }

  async findCommand(aggregateId: string, commandId: string): Promise<CommandRecord | undefined> {
    const table = this.options.commandsTable;
    if (!table) return undefined;
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetCommand({
          TableName: table,
          Key: {
            [COMMANDS_TABLE.partitionKey.name]: aggregateId,
            [COMMANDS_TABLE.sortKey.name]: commandId,
          },
          ConsistentRead: true,
        }),
      ));
    } catch (error) {
      throw throttlingOf(error) ?? error;
    }
    if (!item) return undefined;
    const { commandHash, firstVersion, lastVersion } = item;
    if (
      typeof commandHash !== 'string' ||
      !Number.isSafeInteger(firstVersion) ||
      !Number.isSafeInteger(lastVersion)
    ) {
      throw new CorruptEventError(aggregateId, `command ${commandId}`, 'unreadable command record');
    }
    return {
      aggregateId,
      commandId,
      commandHash,
      firstVersion: firstVersion as number,
      lastVersion: lastVersion as number,
    };
  }

  async load(aggregateId: string, options: LoadOptions = {}): Promise<StoredEvent[]> {
    const { afterVersion = 0, toVersion, limit, newest } = options;
    const n = (value: number): AttributeValue => ({ N: String(value) });
    // The low-level Query (raw items): the codec decodes each item, so one corrupt number is
    // a CorruptEventError naming its version instead of a BigInt in the whole page.
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression:
        toVersion === undefined
          ? '#pk = :id AND #sk > :after'
          : '#pk = :id AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues:
        toVersion === undefined
          ? { ':id': { S: aggregateId }, ':after': n(afterVersion) }
          : { ':id': { S: aggregateId }, ':from': n(afterVersion + 1), ':to': n(toVersion) },
    };
    const events: StoredEvent[] = [];
    if (newest !== undefined) {
      // Newest first, one page (a page holds 1 MB: far more than the runner's window).
      const page = await this.send(
        new QueryCommand({ ...input, ScanIndexForward: false, Limit: newest }),
      );
      events.push(...(page.Items ?? []).map(decodeEventItem).reverse());
    } else {
      let startKey: RawItem | undefined;
      do {
        const remaining = limit === undefined ? undefined : limit - events.length;
        const page = await this.send(
          new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: remaining }),
        );
        events.push(...(page.Items ?? []).map(decodeEventItem));
        startKey = page.LastEvaluatedKey;
      } while (startKey && (limit === undefined || events.length < limit));
    }
    const last = events.at(-1);
    if (last) this.heads.saw(aggregateId, last.version);
    return events;
  }

  /** Sends a read; throttling becomes ThrottledError (503), anything else passes unchanged. */
  private async send(command: QueryCommand): Promise<QueryCommandOutput> {
    try {
      // The document client passes low-level commands through untranslated.
      return (await this.client.send(command as never)) as QueryCommandOutput;
    } catch (error) {
      throw throttlingOf(error) ?? error;
    }
  }

  async currentVersion(aggregateId: string): Promise<number> {
    const page = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':id': { S: aggregateId } },
        ProjectionExpression: '#sk',
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const raw = page.Items?.[0]?.[SK]?.N;
    if (raw === undefined) return 0;
    const version = Number(raw);
    if (!Number.isSafeInteger(version)) {
      throw new CorruptEventError(aggregateId, raw, 'version: integer beyond 2^53');
    }
    this.heads.saw(aggregateId, version);
    return version;
  }

  append(events: readonly StoredEvent[]): Promise<void> {
    return this.appendWith(events, []);
  }

  /**
   * Appends the events and performs `alsoWrite` in the same transaction. Used by the coupled
   * profile to write the read-model row atomically with the events it reflects.
   */
  async appendWith(
    events: readonly StoredEvent[],
    alsoWrite: readonly TransactItem[],
  ): Promise<void> {
    const first = assertAppendable(events);
    if (!first) return;
    // DynamoDB would refuse an item over 400 KB with a ValidationException (a 500): refuse it
    // first, with a 4xx that says which item and by how much.
    for (const event of events) {
      assertItemFits(
        'event',
        { ...event },
        {
          aggregateId: event.aggregateId,
          version: event.version,
        },
      );
    }
    for (const write of alsoWrite) {
      if (write.Put?.Item) assertItemFits('row', write.Put.Item, { table: write.Put.TableName });
    }
    const puts = events.map((event) => ({
      TableName: this.tableName,
      Item: event,
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': SK },
    }));
    // A Put's condition sees only its own item: unless this store has read version - 1, its
    // existence needs a ConditionCheck on that item, in a transaction.
    const known = first.version === 1 || this.heads.get(first.aggregateId) >= first.version - 1;
    const previous = known
      ? []
      : [
          {
            ConditionCheck: {
              TableName: this.tableName,
              Key: { [PK]: first.aggregateId, [SK]: first.version - 1 },
              ConditionExpression: 'attribute_exists(#sk)',
              ExpressionAttributeNames: { '#sk': SK },
            },
          },
        ];
    const items = puts.length + previous.length + alsoWrite.length;
    if (items > MAX_TRANSACTION_ITEMS) {
      throw new Error(`An append takes at most ${MAX_TRANSACTION_ITEMS} items, got ${items}`);
    }
    try {
      if (items === 1) {
        await this.client.send(new PutCommand(puts[0]!));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [...puts.map((Put) => ({ Put })), ...previous, ...alsoWrite],
          }),
        );
      }
    } catch (error) {
      throw await this.translateWriteError(error, first, puts.length + previous.length);
    }
    this.heads.saw(first.aggregateId, first.version + events.length - 1);
  }

  private async translateWriteError(error: unknown, first: StoredEvent, eventCount: number) {
    const conflict = async () =>
      new VersionConflictError(
        first.aggregateId,
        first.version - 1,
        await this.currentVersion(first.aggregateId),
      );
    if (error instanceof ConditionalCheckFailedException) return conflict();
    if (error instanceof TransactionConflictException) return new TransactionConflictError();
    if (error instanceof TransactionCanceledException) {
      const reasons = error.CancellationReasons ?? [];
      const eventReasons = reasons.slice(0, eventCount);
      if (eventReasons.some((r) => r.Code === 'ConditionalCheckFailed')) return conflict();
      if (reasons.some((r) => r.Code === 'TransactionConflict'))
        return new TransactionConflictError();
    }
    return throttlingOf(error) ?? error;
  }
}

/**
 * The event table's parallel Scan behind the EventScan port: raw items, each decoded through
 * the event codec only when asked (so an unreadable one fails alone, named).
 */
export class DynamoDbEventScan implements EventScan {
  /** The low-level client: items stay raw until each is decoded. */
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async page(request: Parameters<EventScan['page']>[0]) {
    const { segment, segments, after, limit } = request;
    const answer = await this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        Segment: segment,
        TotalSegments: segments,
        ExclusiveStartKey: after && {
          [PK]: { S: after.aggregateId },
          [SK]: { N: String(after.version) },
        },
        ...(limit !== undefined && { Limit: limit }),
      }),
    );
    const events = (answer.Items ?? []).map((item) => ({
      key: { aggregateId: item[PK]?.S ?? '', version: Number(item[SK]?.N ?? 0) },
      decode: () => decodeEventItem(item),
    }));
    const cursor = answer.LastEvaluatedKey;
    return {
      events,
      ...(cursor && {
        next: { aggregateId: cursor[PK]?.S ?? '', version: Number(cursor[SK]?.N ?? 0) },
      }),
    };
  }
}
