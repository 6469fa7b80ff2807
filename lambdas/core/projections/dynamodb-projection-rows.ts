/**
 * DynamoDB adapter for declared projections' rows: one table for every projection and version
 * (PROJECTIONS_TABLE), keyed `<name>@v<version>#<rowKey>` (see
 * docs/decisions/one-projections-table.md).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelay } from '../shared/backoff';
import { UNPROCESSED_ITEMS_BACKOFF } from '../shared/dynamodb-limits';
import type { TransactItem } from '../events/dynamodb-event-store';
import { assertItemFits } from '../shared/dynamodb-limits';
import { StaleRowError } from './projection';
import type { ProjectionRowStore, StoredRow } from './row-projection';

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

  /** One consistent BatchGetItem (up to 100 keys), unprocessed keys asked again. */
  async getMany(keys: readonly string[]): Promise<StoredRow[]> {
    const rows: StoredRow[] = [];
    let pending: Record<string, unknown>[] = keys.map((key) => ({ key }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0)
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, UNPROCESSED_ITEMS_BACKOFF)));
      const answer = await this.client.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      rows.push(...((answer.Responses?.[this.tableName] ?? []) as StoredRow[]));
      pending = answer.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return rows;
  }

  /**
   * A write of one aggregate's view row for a transaction (the coupled stack's append): the row,
   * its only source's checkpoint, and a new revision (so a projector that read the row before
   * fails its conditional write, re-reads, and skips what is applied). No read needed.
   */
  writeViewItem(key: string, view: unknown, aggregateId: string, version: number): TransactItem {
    const applied = { [aggregateId]: version };
    assertItemFits('row', { key, view, applied, rev: 0 }, { table: this.tableName });
    return {
      Update: {
        TableName: this.tableName,
        Key: { key },
        UpdateExpression: 'SET #v = :view, #a = :applied, #r = if_not_exists(#r, :zero) + :one',
        ExpressionAttributeNames: { '#v': 'view', '#a': 'applied', '#r': 'rev' },
        ExpressionAttributeValues: { ':view': view, ':applied': applied, ':zero': 0, ':one': 1 },
      },
    };
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
