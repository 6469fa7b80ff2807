/** DynamoDB adapter for read-model rows (one table per projection, keyed by `id`). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { AppError } from './errors';
import type { TransactItem } from './dynamodb-event-store';
import { type ProjectedView, type ReadModelRow, StaleRowError } from './projection';

export interface RowPage<View> {
  readonly items: View[];
  readonly nextCursor: string | null;
}

const encodeCursor = (key: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

const decodeCursor = (cursor: string): Record<string, unknown> => {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && !Array.isArray(key))
      return key as Record<string, unknown>;
  } catch {
    // fall through to the 400 below
  }
  throw new AppError(
    'INVALID_CURSOR',
    'The cursor is malformed; pass nextCursor as it was returned',
  );
};

export class DynamoDbReadModel<View extends ProjectedView> {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(id: string, consistent = true): Promise<ReadModelRow<View> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: consistent }),
    );
    return Item as ReadModelRow<View> | undefined;
  }

  /** Stores the row if the stored one is still at `previousVersion` (0: no row yet). */
  async save(row: ReadModelRow<View>, previousVersion: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ...(previousVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(id)' }
            : {
                ConditionExpression: 'version = :previous',
                ExpressionAttributeValues: { ':previous': previousVersion },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StaleRowError(row.id);
      throw error;
    }
  }

  /** The row as an item of a transaction (the coupled profile writes it with the events). */
  putItem(row: ReadModelRow<View>): TransactItem {
    return { Put: { TableName: this.tableName, Item: row } };
  }

  /** Newest first, through a sparse index: a Query, never a Scan. */
  async queryIndex(
    indexName: string,
    key: { name: string; value: string },
    options: { limit: number; cursor?: string; filter?: { name: string; value: string } },
  ): Promise<RowPage<View>> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#k = :k',
        ...(options.filter && { FilterExpression: '#f = :f' }),
        ExpressionAttributeNames: {
          '#k': key.name,
          ...(options.filter && { '#f': options.filter.name }),
        },
        ExpressionAttributeValues: {
          ':k': key.value,
          ...(options.filter && { ':f': options.filter.value }),
        },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.cursor && { ExclusiveStartKey: decodeCursor(options.cursor) }),
      }),
    );
    return {
      items: (page.Items ?? []) as View[],
      nextCursor: page.LastEvaluatedKey ? encodeCursor(page.LastEvaluatedKey) : null,
    };
  }
}
