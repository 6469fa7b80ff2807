/**
 * DynamoDB adapter of the event-store port.
 * One event: PutItem with attribute_not_exists(version). Several events, or events plus other
 * writes (the coupled profile's read-model row): TransactWriteItems, all or nothing.
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { assertAppendable } from './append-rules';
import { TransactionConflictError, VersionConflictError } from './errors';
import type { EventStore, LoadOptions } from './event-store';
import type { StoredEvent } from './events';
import { EVENT_TABLE } from './schema';

const PK = EVENT_TABLE.partitionKey.name;
const SK = EVENT_TABLE.sortKey.name;

/** One element of a TransactWriteItems request, in the document client's shape. */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async load(aggregateId: string, options: LoadOptions = {}): Promise<StoredEvent[]> {
    const { afterVersion = 0, toVersion, limit } = options;
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
          ? { ':id': aggregateId, ':after': afterVersion }
          : { ':id': aggregateId, ':from': afterVersion + 1, ':to': toVersion },
    };
    const events: StoredEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const remaining = limit === undefined ? undefined : limit - events.length;
      const page = await this.client.send(
        new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: remaining }),
      );
      events.push(...((page.Items ?? []) as StoredEvent[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && (limit === undefined || events.length < limit));
    return events;
  }

  async currentVersion(aggregateId: string): Promise<number> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':id': aggregateId },
        ProjectionExpression: '#sk',
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return (page.Items?.[0]?.[SK] as number | undefined) ?? 0;
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
    const puts = events.map((event) => ({
      TableName: this.tableName,
      Item: event,
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': SK },
    }));
    try {
      if (puts.length === 1 && alsoWrite.length === 0) {
        await this.client.send(new PutCommand(puts[0]!));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [...puts.map((Put) => ({ Put })), ...alsoWrite],
          }),
        );
      }
    } catch (error) {
      throw await this.translateWriteError(error, first, puts.length);
    }
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
    return error;
  }
}
