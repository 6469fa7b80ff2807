/** DynamoDB adapter for read-model rows (one table per projection, keyed by `id`). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeListCursor, encodeListCursor, type ListIdentity } from './cursor';
import type { TransactItem } from '../events/dynamodb-event-store';
import { type ProjectedView, type ReadModelRow, StaleRowError, VIEW_ROW_KEY } from './projection';
import type { IndexDefinition } from '../shared/schema';

export interface RowPage<View> {
  readonly items: View[];
  readonly nextCursor: string | null;
}

/**
 * Most rows one list request examines before it answers (a filter can make many rows examined
 * for few returned). When it is reached the page may be short, even empty, and carries a cursor.
 */
export const DEFAULT_MAX_ROWS_EXAMINED = 500;
/** Rows read per Query while filtering: more than a page, fewer than DynamoDB's 1 MB per call. */
const FILTERED_BATCH = 50;

export interface IndexQueryOptions {
  readonly limit: number;
  readonly cursor?: string;
  readonly filter?: { readonly name: string; readonly value: string };
  readonly maxRowsExamined?: number;
}

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
   * One page of `limit` rows of one index partition, newest first: a Query, never a Scan.
   * With a filter, Query's `Limit` counts rows examined, not rows matched, so Queries are
   * repeated until `limit` rows match, the partition ends, or `maxRowsExamined` rows were read.
   * One row more than asked is read ahead, so the last page says `nextCursor: null` exactly
   * when nothing follows. The cursor resumes right after the last row returned (or, when the
   * examination cap stopped the page, after the last row examined).
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
    // A keys-only index has no other attribute to filter on.
    if (options.filter && index.projection === 'KEYS_ONLY')
      throw new Error(
        `Index ${index.indexName} holds keys only: it cannot filter on ${options.filter.name}`,
      );
    const cap = Math.max(1, options.maxRowsExamined ?? DEFAULT_MAX_ROWS_EXAMINED);
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined =
      options.cursor === undefined ? undefined : decodeListCursor(options.cursor, list);
    let examined = 0;
    for (;;) {
      const wanted = options.limit + 1 - items.length;
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.indexName,
          KeyConditionExpression: '#k = :k',
          ...(options.filter && { FilterExpression: '#f = :f' }),
          ExpressionAttributeNames: {
            '#k': index.partitionKey.name,
            ...(options.filter && { '#f': options.filter.name }),
          },
          ExpressionAttributeValues: {
            ':k': partitionValue,
            ...(options.filter && { ':f': options.filter.value }),
          },
          ScanIndexForward: false,
          Limit: Math.min(
            cap - examined,
            options.filter ? Math.max(wanted, FILTERED_BATCH) : wanted,
          ),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      items.push(...(page.Items ?? []));
      examined += page.ScannedCount ?? page.Items?.length ?? 0;
      startKey = page.LastEvaluatedKey;
      if (items.length > options.limit) {
        const returned = items.slice(0, options.limit);
        return {
          items: await this.rowsOf(index, partitionValue, returned),
          nextCursor: encodeListCursor(list, returned.at(-1)!),
        };
      }
      if (!startKey)
        return { items: await this.rowsOf(index, partitionValue, items), nextCursor: null };
      if (examined >= cap)
        return {
          items: await this.rowsOf(index, partitionValue, items),
          nextCursor: encodeListCursor(list, startKey),
        };
    }
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
