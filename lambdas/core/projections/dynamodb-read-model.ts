/** DynamoDB adapter for read-model rows (one table per projection, keyed by `id`). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ListIdentity } from './cursor';
import { type IndexQueryOptions, queryListPage, type RowPage } from './dynamodb-list-query';
import type { TransactItem } from '../events/dynamodb-event-store';
import { type ProjectedView, type ReadModelRow, StaleRowError, VIEW_ROW_KEY } from './projection';
import type { IndexDefinition } from '../shared/schema';

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

  /**
   * One page of `limit` rows of one index partition, newest first (./dynamodb-list-query.ts): a Query,
   * never a Scan, filtered and bounded as `queryListPage` says.
   */
  async queryIndex(
    index: IndexDefinition,
    partitionValue: string,
    options: IndexQueryOptions,
  ): Promise<RowPage<View>> {
    const list: ListIdentity = {
      tableKey: VIEW_ROW_KEY,
      index,
      partitionValue,
      filter: options.filter,
    };
    const page = await queryListPage(this.client, this.tableName, list, options);
    return { ...page, items: await this.rowsOf(index, partitionValue, page.items) };
  }

  /**
   * The rows of a page, in the index's order. An `ALL` index's entries are the rows. A
   * `KEYS_ONLY` index's entries are keys: the rows are read (consistent GetItems), and a
   * row no longer in this partition (the index lags the table: it moved or was deleted since) is
   * left out, so a page may be shorter than asked but never shows a row in the wrong list. The
   * cursor is still made from the index entry, so paging neither skips nor repeats.
   */
  private async rowsOf(
    index: IndexDefinition,
    partitionValue: string,
    entries: readonly Record<string, unknown>[],
  ): Promise<View[]> {
    if ((index.projection ?? 'ALL') === 'ALL' || entries.length === 0)
      return [...entries] as View[];
    const key = VIEW_ROW_KEY.name;
    // GetItem per row, all at once: the same read units as a BatchGetItem, no extra SDK
    // command in the bundles (the coupled one sits at its size budget) and no extra grant.
    const rows = (await Promise.all(entries.map((entry) => this.get(String(entry[key]))))) as (
      Record<string, unknown> | undefined
    )[];
    return rows.filter(
      (row) => row !== undefined && row[index.partitionKey.name] === partitionValue,
    ) as View[];
  }
}
