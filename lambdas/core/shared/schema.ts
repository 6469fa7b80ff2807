/**
 * Table definitions: the one place that names keys, indexes and streams.
 * Read by the DynamoDB adapters, by the CDK constructs (lib/constructs) and by the local
 * runtime that creates the same tables on DynamoDB Local, so local and cloud cannot drift.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export type KeyAttribute = { readonly name: string; readonly type: 'S' | 'N' };

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /**
   * What the index copies of each row. `KEYS_ONLY`: only its keys and the table's, so a write
   * that changes neither costs the index nothing, and a list reads the rows themselves
   * (GetItem by id). @default 'ALL'
   */
  readonly projection?: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexDefinition[];
}

/** Append-only log: one item per event, `version` 1-based and gapless per aggregate. */
export const EVENT_TABLE = {
  partitionKey: { name: 'aggregateId', type: 'S' },
  sortKey: { name: 'version', type: 'N' },
  indexes: [],
} as const satisfies TableDefinition;

/** The stream view the projector needs: the new item is the whole event. */
export const EVENT_STREAM_VIEW = 'NEW_IMAGE' as const;

/** How many lists of each kind one projection may declare: the slots below. */
export const LIST_SLOTS_PER_KIND = 2;

/**
 * The projections table's list slots (docs/decisions/lists-on-the-projections-table.md): sparse
 * indexes shared by every projection, a row entering one only through its declared lists
 * (lambdas/core/projections/row-lists.ts). `rows1`, `rows2` hold whole rows (a page is one
 * Query, and may be filtered); `keys1`, `keys2` hold keys only (a write that moves neither key
 * costs them nothing; a page reads its rows). Fixed, so declaring a list never changes the table
 * (CloudFormation adds one index per update).
 */
function listSlots<Kind extends 'rows' | 'keys'>(kind: Kind, projection: 'ALL' | 'KEYS_ONLY') {
  return Array.from({ length: LIST_SLOTS_PER_KIND }, (_, i) => i + 1).map((n) => ({
    indexName: `${kind}${n}` as const,
    partitionKey: { name: `${kind}${n}List`, type: 'S' } as const,
    sortKey: { name: `${kind}${n}Sort`, type: 'S' } as const,
    projection,
  }));
}

/**
 * Declared projections (lambdas/core/projections/row-projection.ts): one table for all of them, every row
 * keyed `<name>@v<version>#<rowKey>`, so a projection or a new version of one needs no new table
 * (docs/decisions/one-projections-table.md).
 */
export const PROJECTIONS_TABLE = {
  partitionKey: { name: 'key', type: 'S' },
  indexes: [...listSlots('rows', 'ALL'), ...listSlots('keys', 'KEYS_ONLY')],
} as const satisfies TableDefinition;

/**
 * Aggregate snapshots (lambdas/core/command/snapshots.ts): one item per aggregate and snapshot key. The
 * key names the aggregate type, its declared `snapshotVersion` and a hash of its reducer, so a
 * snapshot taken by another reducer is never even read (docs/decisions/snapshots.md).
 */
export const SNAPSHOTS_TABLE = {
  partitionKey: { name: 'aggregateId', type: 'S' },
  sortKey: { name: 'snapshotKey', type: 'S' },
  indexes: [],
} as const satisfies TableDefinition;

/**
 * Idempotency markers: one item per command that appended events, written in the same
 * transaction as its events, so a resent `commandId` is found by one keyed read at any history
 * length (docs/decisions/idempotency-markers.md).
 */
export const COMMANDS_TABLE = {
  partitionKey: { name: 'aggregateId', type: 'S' },
  sortKey: { name: 'commandId', type: 'S' },
  indexes: [],
} as const satisfies TableDefinition;

/** The projections table's stream (both stacks): the notifier pushes each new row of a view. */
export const READ_MODEL_STREAM_VIEW = 'NEW_IMAGE' as const;

/**
 * WebSocket subscriptions: one item per (topic, connection), e.g. topic `order#o-1`. The notifier
 * queries a topic; `$disconnect` and a GoneException query the `byConnection` index to remove
 * every topic of one connection. `expiresAt` (epoch seconds) is the TTL attribute, set to the
 * connection's start plus API Gateway's 2-hour limit, so rows of a connection whose
 * `$disconnect` never came go away by themselves.
 */
export const SUBSCRIPTIONS_TABLE = {
  partitionKey: { name: 'topic', type: 'S' },
  sortKey: { name: 'connectionId', type: 'S' },
  indexes: [
    {
      indexName: 'byConnection',
      partitionKey: { name: 'connectionId', type: 'S' },
      sortKey: { name: 'topic', type: 'S' },
    },
  ],
} as const satisfies TableDefinition;

/** The TTL attribute of SUBSCRIPTIONS_TABLE (epoch seconds). */
export const SUBSCRIPTION_TTL_ATTRIBUTE = 'expiresAt';

/** The same definition as a CreateTable request (DynamoDB Local, tests). */
export const createTableInput = (
  definition: TableDefinition,
  tableName: string,
  options: { stream?: boolean } = {},
): CreateTableCommandInput => {
  const keyAttributes = [
    definition.partitionKey,
    ...(definition.sortKey ? [definition.sortKey] : []),
    ...definition.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  const unique = [...new Map(keyAttributes.map((a) => [a.name, a])).values()];
  const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: unique.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.indexes.length > 0 && {
      GlobalSecondaryIndexes: definition.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection ?? 'ALL' },
      })),
    }),
    ...(options.stream && {
      StreamSpecification: { StreamEnabled: true, StreamViewType: EVENT_STREAM_VIEW },
    }),
  };
};
