/**
 * One page of one partition of a list index, newest first: a Query, never a Scan. Shared by
 * every list the API serves (the projections table's list slots, ./row-lists.ts).
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeListCursor, encodeListCursor, type ListIdentity } from './cursor';
import type { IndexQueryOptions, RowPage } from './row-lists';

export type { IndexQueryOptions, RowPage } from './row-lists';

/**
 * Most rows one list request examines before it answers (a filter can make many rows examined
 * for few returned). When it is reached the page may be short, even empty, and carries a cursor.
 */
export const DEFAULT_MAX_ROWS_EXAMINED = 500;
/** Rows read per Query while filtering: more than a page, fewer than DynamoDB's 1 MB per call. */
const FILTERED_BATCH = 50;

/**
 * The index entries of one page of `list`. With a filter, Query's `Limit` counts rows examined,
 * not rows matched, so Queries are repeated until `limit` entries match, the partition ends, or
 * `maxRowsExamined` rows were read. One entry more than asked is read ahead, so the last page
 * says `nextCursor: null` exactly when nothing follows. The cursor resumes right after the last
 * entry returned (or, when the examination cap stopped the page, after the last one examined).
 * `filterPath` is where the filtered field sits in an item (`['view', 'status']`).
 */
export const queryListPage = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  list: ListIdentity,
  options: IndexQueryOptions & { readonly filterPath?: readonly string[] },
): Promise<RowPage<Record<string, unknown>>> => {
  const { index, filter } = list;
  // A keys-only index has no other attribute to filter on.
  if (filter && index.projection === 'KEYS_ONLY')
    throw new Error(`Index ${index.indexName} holds keys only: it cannot filter on ${filter.name}`);
  const path = options.filterPath ?? (filter ? [filter.name] : []);
  const cap = Math.max(1, options.maxRowsExamined ?? DEFAULT_MAX_ROWS_EXAMINED);
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined =
    options.cursor === undefined ? undefined : decodeListCursor(options.cursor, list);
  let examined = 0;
  for (;;) {
    const wanted = options.limit + 1 - items.length;
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.indexName,
        KeyConditionExpression: '#k = :k',
        ...(filter && { FilterExpression: `${path.map((_, i) => `#f${i}`).join('.')} = :f` }),
        ExpressionAttributeNames: {
          '#k': index.partitionKey.name,
          ...(filter && Object.fromEntries(path.map((name, i) => [`#f${i}`, name]))),
        },
        ExpressionAttributeValues: {
          ':k': list.partitionValue,
          ...(filter && { ':f': filter.value }),
        },
        ScanIndexForward: false,
        Limit: Math.min(cap - examined, filter ? Math.max(wanted, FILTERED_BATCH) : wanted),
        ...(startKey && { ExclusiveStartKey: startKey }),
      }),
    );
    items.push(...(page.Items ?? []));
    examined += page.ScannedCount ?? page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
    if (items.length > options.limit) {
      const returned = items.slice(0, options.limit);
      return { items: returned, nextCursor: encodeListCursor(list, returned.at(-1)!) };
    }
    if (!startKey) return { items, nextCursor: null };
    if (examined >= cap) return { items, nextCursor: encodeListCursor(list, startKey) };
  }
};
