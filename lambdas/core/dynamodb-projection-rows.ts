/**
 * DynamoDB adapter for declared projections' rows: one table for every projection and version
 * (PROJECTIONS_TABLE), keyed `<name>@v<version>#<rowKey>` (see docs/decisions.md, "One table
 * for declared projections").
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StaleRowError } from './projection';
import type { StoredRow } from './row-projection';

export interface ProjectionRowStore {
  get(key: string): Promise<StoredRow | undefined>;
  /** Stores `row` if the stored one is still at `previousRev` (0: no row yet), else StaleRowError. */
  save(row: StoredRow, previousRev: number): Promise<void>;
}

export class DynamoDbProjectionRows implements ProjectionRowStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(key: string): Promise<StoredRow | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { key }, ConsistentRead: true }),
    );
    return Item as StoredRow | undefined;
  }

  async save(row: StoredRow, previousRev: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ...(previousRev === 0
            ? {
                ConditionExpression: 'attribute_not_exists(#k)',
                ExpressionAttributeNames: { '#k': 'key' },
              }
            : {
                ConditionExpression: '#r = :previous',
                ExpressionAttributeNames: { '#r': 'rev' },
                ExpressionAttributeValues: { ':previous': previousRev },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StaleRowError(row.key);
      throw error;
    }
  }
}
