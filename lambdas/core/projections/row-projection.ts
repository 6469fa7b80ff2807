/**
 * Declared projections whose rows may be fed by many aggregates (e.g. one row per customer, fed
 * by every order of that customer). A projection names itself and its version, the source
 * aggregate whose events it reads, the event types it handles, the key of the row each event
 * updates and a pure reducer. Nothing here knows about any domain: a domain folder declares its
 * projections, and one list per deployment (lambdas/handlers/deployment.ts) names them.
 *
 * Exactly-once (docs/decisions/rows-fed-by-many-aggregates.md): every stored row carries a
 * checkpoint per source aggregate (`applied`: aggregateId -> last version applied to this row)
 * and a revision (`rev`) for a conditional write, so a duplicate, a retried or bisected batch or
 * a concurrent batch never applies an event twice, and none is skipped.
 */
import type { ReadRule } from '../identity/authorization';
import type { EventAction } from '../events/events';
import type { IndexQueryOptions, RowList, RowPage } from './row-lists';

export interface RowProjection<Row = unknown, SourceState = unknown> {
  /** URL-safe public name, e.g. `customer-summary`; the `{name}` of its query route. */
  readonly name: string;
  /** Bumped when the row's shape or meaning changes: a new version is new storage (a rebuild). */
  readonly version: number;
  /** The aggregate whose events feed the rows; its reducer gives the state before each event. */
  readonly source: {
    readonly type: string;
    readonly initialState: SourceState;
    /** The aggregate's own reducer (typed on its own events, hence `never` here). */
    readonly reducer: (state: SourceState, event: never) => SourceState;
  };
  /** The event types that change a row; others only advance the source state. */
  readonly eventTypes: readonly string[];
  /** The key of the row an event updates, from the event and its aggregate's state before it. */
  readonly rowKey: (event: EventAction, before: SourceState) => string | undefined;
  /**
   * Pure. Applied per source aggregate in version order; across aggregates in any order, so it
   * must commute across aggregates (counts, sums, maxima), which keeps every row equal to the
   * fold of the whole log whatever order the stream delivers aggregates in.
   */
  readonly reducer: (row: Row | undefined, event: EventAction, before: SourceState) => Row;
  /**
   * Who may read a row: `GET /read-models/{name}/{key}` (and its `?asOf` builds), the
   * collection routes and lists of a view, and pushes. A caller it refuses gets 404, as for a
   * missing row. Checked by `mayRead` (../identity/authorization.ts). @default admins only (a
   * read model that names no reader shows nobody else)
   */
  readonly canRead?: ReadRule<Row>;
  /** What a row key may look like in the query route (checked before any read). */
  readonly keyPattern: RegExp;
  /**
   * Rows fed by very many aggregates (a popular SKU): each row is stored as this many items,
   * an aggregate always feeding item `shardOf(aggregateId, shards)`, each with its own
   * checkpoints, so no item outgrows DynamoDB's 400 KB and writes spread over `shards`
   * partitions. Requires `merge`. Changing it is a new version (a rebuild). @default 1
   */
  readonly shards?: number;
  /**
   * Pure: the row from its shards' rows (each the reducer's fold over its own aggregates), e.g.
   * counts and sums add. Must agree with the reducer: merging the folds of any partition of the
   * aggregates gives the fold of all of them.
   */
  readonly merge?: (rows: readonly Row[]) => Row;
  /**
   * The lists its rows are served in, `GET /{collection}?<param>=<value>` for a collection's
   * view (./row-lists.ts): each a sparse index, so a list is a Query, never a scan. @default none
   */
  readonly lists?: readonly RowList<Row>[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRowProjection = RowProjection<any, any>;

/** The source state after `event` (the source reducer, called on a stored event). */
export const advanceSource = (projection: AnyRowProjection, state: unknown, event: EventAction) =>
  (projection.source.reducer as (state: unknown, event: EventAction) => unknown)(state, event);

/** A projection's storage: its name with its version, so two versions can live side by side. */
export const storageName = (projection: Pick<RowProjection, 'name' | 'version'>) =>
  `${projection.name}@v${projection.version}`;

/** The stored item's partition key: `<name>@v<version>#<rowKey>`. */
export const storedKey = (projection: Pick<RowProjection, 'name' | 'version'>, rowKey: string) =>
  `${storageName(projection)}#${rowKey}`;

/** How many items a row of `projection` is stored as (1: unsharded). */
export const shardsOf = (projection: Pick<RowProjection, 'shards'>) => projection.shards ?? 1;

/**
 * The shard an aggregate feeds: FNV-1a (32 bit) of its id, mod `shards`. Stable across
 * processes and versions of Node, so an aggregate's events always reach the same item.
 */
export const shardOf = (aggregateId: string, shards: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < aggregateId.length; i++) {
    hash ^= aggregateId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
};

/**
 * The stored key of the item an aggregate's events update: `storedKey` for an unsharded
 * projection, else `storedKey#<shard>` (every key of a sharded projection ends so, hence no two
 * collide whatever the row keys contain).
 */
export const itemKey = (
  projection: AnyRowProjection,
  rowKey: string,
  aggregateId: string,
  /** Another storage of the projection, e.g. a rebuild as of a past moment (rebuild.ts). */
  storage = storageName(projection),
) => {
  const shards = shardsOf(projection);
  const key = `${storage}#${rowKey}`;
  return shards === 1 ? key : `${key}#${shardOf(aggregateId, shards)}`;
};

/** The stored keys of every item of one row (one key when unsharded). */
export const itemKeys = (
  projection: AnyRowProjection,
  rowKey: string,
  storage = storageName(projection),
): string[] => {
  const shards = shardsOf(projection);
  const key = `${storage}#${rowKey}`;
  return shards === 1 ? [key] : Array.from({ length: shards }, (_, i) => `${key}#${i}`);
};

/** The row key of a stored item key of `projection` (its shard suffix removed). */
export const rowKeyOfItem = (projection: AnyRowProjection, key: string): string => {
  const rowKey = key.slice(storageName(projection).length + 1);
  return shardsOf(projection) === 1 ? rowKey : rowKey.replace(/#\d+$/, '');
};

/** The row from the views of its stored items (those that exist); undefined when none. */
export const mergeItems = <Row>(
  projection: RowProjection<Row, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  views: readonly Row[],
): Row | undefined => {
  if (views.length === 0) return undefined;
  if (shardsOf(projection) === 1) return views[0];
  if (!projection.merge) throw new Error(`${projection.name} has shards but no merge`);
  return projection.merge(views);
};

/** Another writer stored a newer row first; the projector re-reads and tries again. */
export class StaleRowError extends Error {
  constructor(key: string) {
    super(`Read-model row ${key} changed while it was being projected`);
    this.name = 'StaleRowError';
  }
}

/** One stored row: the view plus what makes its updates exactly-once. */
export interface StoredRow<Row = unknown> {
  readonly key: string;
  readonly view: Row;
  /** Source aggregateId -> the last of its versions applied to this row. */
  readonly applied: Readonly<Record<string, number>>;
  /** Incremented by every write: the condition of the next one. */
  readonly rev: number;
  /** The list slots' attributes of the lists the row is in (./row-lists.ts, listAttributes). */
  readonly [listSlotAttribute: string]: unknown;
}

/** The port of a projection's row storage (adapter: ./dynamodb-projection-rows.ts). */
export interface ProjectionRowStore {
  get(key: string): Promise<StoredRow | undefined>;
  /** The stored rows of `keys` that exist (any order): the items of a sharded row. */
  getMany?(keys: readonly string[]): Promise<StoredRow[]>;
  /**
   * Stores `row` if the stored one is still at `previousRev` (0: no row yet), else StaleRowError.
   * `folded`: the events this write folded into the row, in order (the live projector's), which a
   * pushing store may post instead of the row.
   */
  save(row: StoredRow, previousRev: number, folded?: readonly EventAction[]): Promise<void>;
  /** A page of a declared list of a collection's view (./row-lists.ts; the list routes). */
  listPage?(
    view: AnyRowProjection,
    param: string,
    value: string,
    options: IndexQueryOptions,
  ): Promise<RowPage<unknown>>;
}

/** The folds of a whole log, from scratch: the rows a projector must converge to (tests, rebuild). */
export const foldRows = <Row>(
  projection: RowProjection<Row, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  logs: readonly (readonly EventAction[])[],
): Map<string, Row> => {
  const rows = new Map<string, Row>();
  for (const log of logs) {
    let state: unknown = projection.source.initialState;
    for (const event of log) {
      if (projection.eventTypes.includes(event.type)) {
        const key = projection.rowKey(event, state);
        if (key !== undefined) rows.set(key, projection.reducer(rows.get(key), event, state));
      }
      state = advanceSource(projection, state, event);
    }
  }
  return rows;
};
