/**
 * Lists of a projection's rows: `GET /{collection}?<param>=<value>` (e.g. `?ownerId=u-1`), each
 * served by a sparse index of the projections table, never a scan. A projection declares its
 * lists (`RowProjection.lists`); each list takes one of the table's fixed slots (PROJECTIONS_TABLE
 * in ../shared/schema.ts) and every row write sets that slot's two attributes from the row, or
 * leaves them out when the row is in no partition of the list. Why one table with slots rather
 * than a table per view: docs/decisions/lists-on-the-projections-table.md.
 */
import type { Principal } from '../identity/principal';
import { type IndexDefinition, LIST_SLOTS_PER_KIND, PROJECTIONS_TABLE } from '../shared/schema';

export interface RowList<Row = unknown> {
  /** The query parameter naming the list and its partition: `customerId` in `?customerId=c-1`. */
  readonly param: string;
  /** What a value of `param` may look like, checked before any read (a 400 otherwise). */
  readonly pattern: RegExp;
  /** The partition a row is listed under; `undefined` lists it nowhere (e.g. a deleted row). */
  readonly partitionOf: (row: Row) => string | undefined;
  /** The order within a partition, newest first: an ISO time, or any string that sorts so. */
  readonly sortOf: (row: Row) => string;
  /**
   * What the list's index holds. `rows`: the rows, so a page is one Query and may be filtered,
   * but every write of a row rewrites its entry. `keys`: keys only, so a write that moves
   * neither key costs the index nothing (a list by status changes once per status, not once per
   * event), and a page reads its rows (one consistent BatchGetItem). @default 'rows'
   */
  readonly holds?: 'rows' | 'keys';
  /**
   * Other parameters a page of a `rows` list may be filtered on, each a top-level field of the
   * row with the values it may take: `{ status: /^(draft|submitted)$/ }` serves
   * `?customerId=c-1&status=draft`. A filter reads the partition until a page matches (bounded).
   */
  readonly filters?: Readonly<Record<string, RegExp>>;
  /**
   * Whether the principal may ask for the partition `value` (`?customerId=alice` only for
   * alice, say): refused, the answer is 403 FORBIDDEN (`LIST_NOT_ALLOWED`) before any read.
   * Rows of a page the view's `canRead` refuses are left out as well. @default admins only
   */
  readonly mayList?: (principal: Principal, value: string) => boolean;
}

export interface RowPage<View> {
  readonly items: View[];
  readonly nextCursor: string | null;
}

export interface IndexQueryOptions {
  readonly limit: number;
  readonly cursor?: string;
  readonly filter?: { readonly name: string; readonly value: string };
  readonly maxRowsExamined?: number;
}

/** Query parameters of every list route, never a list's own. */
export const PAGE_PARAMS = ['limit', 'cursor'] as const;

const PARAM = /^[a-z][A-Za-z0-9]{0,63}$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WithLists = { readonly name: string; readonly lists?: readonly RowList<any>[] };

/** The table's slots of one kind, in order (`rows1`, `rows2` / `keys1`, `keys2`). */
const slotsOf = (kind: 'rows' | 'keys'): readonly IndexDefinition[] =>
  PROJECTIONS_TABLE.indexes.filter((index) => index.indexName.startsWith(kind));

/** Each declared list with its slot: the n-th list of a kind takes that kind's n-th slot. */
export const listSlotsOf = (
  projection: WithLists,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): readonly { readonly list: RowList<any>; readonly slot: IndexDefinition }[] => {
  const taken = { rows: 0, keys: 0 };
  return (projection.lists ?? []).map((list) => {
    const kind = list.holds ?? 'rows';
    const slot = slotsOf(kind)[taken[kind]++];
    if (!slot) {
      throw new Error(
        `Projection ${projection.name}: at most ${LIST_SLOTS_PER_KIND} lists may hold ${kind}`,
      );
    }
    return { list, slot };
  });
};

/**
 * The stored partition value of a list: the storage (`<name>@v<version>`, or a rebuild's), the
 * parameter and its value, so projections, versions and lists sharing a slot never meet.
 */
export const listPartition = (storage: string, param: string, value: string) =>
  `${storage}#${param}#${value}`;

/**
 * The slot attributes a row is stored with: for each list it is in, the slot's partition and
 * sort. A list whose `partitionOf` answers `undefined` (or whose sort is empty, which no index
 * takes) gets none, so the row leaves that list.
 */
export const listAttributes = (
  projection: WithLists,
  storage: string,
  row: unknown,
): Record<string, string> => {
  const attributes: Record<string, string> = {};
  if (row === undefined || row === null) return attributes;
  for (const { list, slot } of listSlotsOf(projection)) {
    const value = list.partitionOf(row);
    const sort = value === undefined ? '' : list.sortOf(row);
    if (value === undefined || sort === '') continue;
    attributes[slot.partitionKey.name] = listPartition(storage, list.param, value);
    attributes[slot.sortKey.name] = sort;
  }
  return attributes;
};

/** Every slot attribute a projection's rows may carry (what a partial update removes). */
export const listAttributeNames = (projection: WithLists): string[] =>
  listSlotsOf(projection).flatMap(({ slot }) => [slot.partitionKey.name, slot.sortKey.name]);

/**
 * A projection's lists, checked (at module load, with the collections): parameters that are
 * identifiers, unique, not a page parameter; filters only on `rows` lists and not named like a
 * list; no more lists of a kind than the table has slots; an unsharded projection.
 */
export const checkLists = (projection: WithLists & { readonly shards?: number }): void => {
  const lists = projection.lists ?? [];
  if (lists.length === 0) return;
  const fail = (why: string) => {
    throw new Error(`Projection ${projection.name}: ${why}`);
  };
  if ((projection.shards ?? 1) !== 1) fail('a sharded projection cannot declare lists');
  const params = lists.map((list) => list.param);
  for (const list of lists) {
    if (!PARAM.test(list.param)) fail(`list parameter "${list.param}" must be a camelCase name`);
    if ((PAGE_PARAMS as readonly string[]).includes(list.param)) {
      fail(`"${list.param}" is a page parameter, not a list's`);
    }
    if (params.indexOf(list.param) !== params.lastIndexOf(list.param)) {
      fail(`list parameter "${list.param}" is declared twice`);
    }
    const filters = Object.keys(list.filters ?? {});
    if (filters.length > 0 && list.holds === 'keys') {
      fail(`list "${list.param}" holds keys only: it has no row to filter on`);
    }
    for (const filter of filters) {
      if (!PARAM.test(filter) || (PAGE_PARAMS as readonly string[]).includes(filter)) {
        fail(`filter "${filter}" of list "${list.param}" must be a camelCase name, not a page's`);
      }
    }
  }
  listSlotsOf(projection);
};
