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
import {
  type AnyRowProjection,
  type ProjectionRowStore,
  StaleRowError,
  storageName,
  storedKey,
  type StoredRow,
} from './row-projection';
import { listAttributeNames, listAttributes, listPartition, listSlotsOf } from './row-lists';
import type { ListIdentity } from './cursor';
import { type IndexQueryOptions, queryListPage, type RowPage } from './dynamodb-list-query';
import { PROJECTIONS_TABLE } from '../shared/schema';

/** An attribute a view item's write also sets, or removes when `value` is absent. */
export interface ViewItemMark {
  readonly name: string;
  readonly value?: string;
}

/**
 * The Update of one aggregate's view item: the row, its only source's checkpoint, its lists'
 * slot attributes (those it left, removed), and a new revision (so a projector that read the
 * item before fails its conditional write, re-reads, and skips what is applied). The coupled
 * append sends it in its transaction; the bench's floor sends the very same input. `lists` is
 * the row's slot attributes, passed by a caller that needs them too (writeViewItem's size check).
 * `mark`: one more attribute the write sets (with a `value`) or removes (without one: an Update
 * keeps the attributes it does not name, and an earlier writer's mark must not stay).
 */
export const viewItemUpdate = (
  tableName: string,
  view: Pick<AnyRowProjection, 'name' | 'version' | 'lists'>,
  aggregateId: string,
  row: unknown,
  version: number,
  lists: Record<string, string> = listAttributes(view, storageName(view), row),
  mark?: ViewItemMark,
) => {
  const left = listAttributeNames(view).filter((name) => !(name in lists));
  const names = Object.keys(lists);
  // Placeholders named after the mark (`#pushedBy`, `:pushedBy`): an alphanumeric name.
  const set = [
    ...(mark?.value !== undefined ? [`#${mark.name} = :${mark.name}`] : []),
    '#v = :view',
    '#a = :applied',
    '#r = if_not_exists(#r, :zero) + :one',
    ...names.map((_, i) => `#l${i} = :l${i}`),
  ];
  const remove = [
    ...left.map((_, i) => `#x${i}`),
    ...(mark && mark.value === undefined ? [`#${mark.name}`] : []),
  ];
  return {
    TableName: tableName,
    Key: { key: storedKey(view, aggregateId) },
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: {
      '#v': 'view',
      '#a': 'applied',
      '#r': 'rev',
      ...Object.fromEntries(names.map((name, i) => [`#l${i}`, name])),
      ...Object.fromEntries(left.map((name, i) => [`#x${i}`, name])),
      ...(mark && { [`#${mark.name}`]: mark.name }),
    },
    ExpressionAttributeValues: {
      ...(mark?.value !== undefined && { [`:${mark.name}`]: mark.value }),
      ':view': row,
      ':applied': { [aggregateId]: version },
      ':zero': 0,
      ':one': 1,
      ...Object.fromEntries(names.map((name, i) => [`:l${i}`, lists[name]])),
    },
  };
};

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
   * A write of one aggregate's view row for a transaction (the coupled stack's append): the
   * `viewItemUpdate` below, checked against DynamoDB's item size first. No read needed.
   */
  writeViewItem(
    view: AnyRowProjection,
    aggregateId: string,
    row: unknown,
    version: number,
    mark?: ViewItemMark,
  ): TransactItem {
    const lists = listAttributes(view, storageName(view), row);
    const update = viewItemUpdate(this.tableName, view, aggregateId, row, version, lists, mark);
    const { ':view': stored, ':applied': applied } = update.ExpressionAttributeValues;
    assertItemFits(
      'row',
      { key: update.Key.key, view: stored, applied, rev: 0, ...lists },
      { table: this.tableName },
    );
    return { Update: update };
  }

  /**
   * One page of a declared list of `view` (./row-lists.ts): the rows listed under `value`,
   * newest first, from the list's slot index (./dynamodb-list-query.ts). A `keys` list reads its rows
   * (one consistent BatchGetItem) and leaves out a row no longer in the partition (the index
   * lags the table), so a page may be short but never shows a row in the wrong list.
   */
  async listPage(
    view: AnyRowProjection,
    param: string,
    value: string,
    options: IndexQueryOptions,
  ): Promise<RowPage<unknown>> {
    const declared = listSlotsOf(view).find(({ list }) => list.param === param);
    if (!declared) throw new Error(`Projection ${view.name} declares no list ${param}`);
    const { slot } = declared;
    const list: ListIdentity = {
      tableKey: PROJECTIONS_TABLE.partitionKey,
      index: slot,
      partitionValue: listPartition(storageName(view), param, value),
      filter: options.filter,
    };
    const page = await queryListPage(this.client, this.tableName, list, {
      ...options,
      ...(options.filter && { filterPath: ['view', options.filter.name] }),
    });
    if (slot.projection !== 'KEYS_ONLY') {
      return { ...page, items: page.items.map((item) => item.view) };
    }
    const keys = page.items.map((item) => String(item[PROJECTIONS_TABLE.partitionKey.name]));
    const rows = new Map(
      (keys.length > 0 ? await this.getMany(keys) : []).map((row) => [row.key, row]),
    );
    const items = keys.flatMap((key) => {
      const row = rows.get(key);
      return row && row[slot.partitionKey.name] === list.partitionValue ? [row.view] : [];
    });
    return { ...page, items };
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
