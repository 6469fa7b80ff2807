/**
 * The deployment's collections (lambdas/handlers/deployment.ts) are checked when the module
 * loads: a bad declaration fails the cold start instead of serving a half-declared collection.
 */
import {
  checkCollections,
  type CollectionDeclaration,
  viewRowAfter,
} from '../../lambdas/core/projections/collections';
import { type AnyRowProjection, foldRows } from '../../lambdas/core/projections/row-projection';
import {
  listAttributes,
  listSlotsOf,
  type RowList,
} from '../../lambdas/core/projections/row-lists';
import type { AnyAggregate } from '../../lambdas/core/command/aggregate';
import { orderAggregate } from '../../lambdas/domain/order';
import {
  customerSummaryProjection,
  orderViewProjection,
} from '../../lambdas/domain/order/projections';
import { shoppingListAggregate, type ShoppingListView } from '../../lambdas/domain/shopping-list';
import { shoppingListRowProjection } from '../../lambdas/domain/shopping-list/projections';
import { AGGREGATES, COLLECTIONS, PROJECTIONS } from '../../lambdas/handlers/deployment';
import { RESERVED_SEGMENTS } from '../../lambdas/handlers/routes';
import { exampleLogsBySource } from '../support/projection-rows';

const deployment = {
  aggregates: AGGREGATES,
  projections: PROJECTIONS,
  reserved: RESERVED_SEGMENTS,
};
const list: CollectionDeclaration = {
  collection: 'shopping-lists',
  aggregate: shoppingListAggregate,
  view: shoppingListRowProjection,
};
// The deployment's other collections: each projection declaring lists must be one's view.
const others = COLLECTIONS.filter((c) => c.collection !== list.collection);
const checked = (declarations: readonly CollectionDeclaration[]) =>
  checkCollections([...others, ...declarations], deployment);

test('the deployment serves its orders, its lists as shopping-lists and its stock as inventory, from row projections', () => {
  expect(COLLECTIONS.map((c) => [c.collection, c.aggregate.type, c.view.name])).toEqual([
    ['orders', 'order', 'order'],
    ['shopping-lists', 'shoppingList', 'shopping-list'],
    ['inventory', 'inventory', 'inventory'],
  ]);
  expect(checked([list])).toEqual([...others, list]);
});

test.each([
  ['the read models segment', { ...list, collection: 'read-models' }, /reserved/],
  ['the commands segment', { ...list, collection: 'commands' }, /reserved/],
  ["another collection's segment", { ...list, collection: 'orders' }, /declared twice/],
  ['camelCase', { ...list, collection: 'shoppingLists' }, /kebab-case/],
  ['a trailing dash', { ...list, collection: 'lists-' }, /kebab-case/],
  ['a view of another aggregate', { ...list, view: customerSummaryProjection }, /reads order/],
  [
    'an aggregate not deployed',
    { ...list, aggregate: { ...shoppingListAggregate } as AnyAggregate },
    /not in the deployment's aggregates/,
  ],
  [
    'a sharded view (one row per aggregate is never big)',
    {
      ...list,
      view: {
        ...shoppingListRowProjection,
        shards: 4,
        merge: (rows: readonly unknown[]) => rows[0],
      },
    },
    /is sharded/,
  ],
  [
    'a view not listed',
    { ...list, view: { ...shoppingListRowProjection, name: 'lists-elsewhere' } },
    /not in the deployment's projections/,
  ],
])('refuses %s', (_, declaration, message) => {
  expect(() => checked([declaration])).toThrow(message);
});

test('the reserved segments are the static first segments of the route table', () => {
  expect([...RESERVED_SEGMENTS].sort()).toEqual(['commands', 'processes', 'read-models']);
});

test('refuses a collection declared twice', () => {
  expect(() => checked([list, list])).toThrow(/declared twice/);
});

test('the order aggregate is a collection like any other: orders, its view the order row projection', () => {
  const orders = COLLECTIONS.filter((c) => c.aggregate === orderAggregate);
  expect(orders).toEqual([
    expect.objectContaining({ collection: 'orders', view: orderViewProjection }),
  ]);
  // A deleted order keeps its row (status deleted), answered 404.
  expect(orders[0]!.isDeleted?.({ status: 'deleted' })).toBe(true);
  expect(orders[0]!.isDeleted?.({ status: 'draft' })).toBe(false);
});

/**
 * The coupled stack writes a collection's view from the command's events alone (folded onto no
 * row, from the state they were decided on): the view must be a function of its aggregate's
 * state. Every collection, every example history, every way of cutting it into commands.
 */
test.each(COLLECTIONS.map((c) => [c.collection, c] as const))(
  '%s: the view after each command is the fold of the whole log',
  (_, { view, aggregate }) => {
    const logs = exampleLogsBySource()[aggregate.type];
    expect(logs?.length).toBeGreaterThan(0);
    for (const log of logs!) {
      const id = log[0]!.meta.aggregateId;
      for (let cut = 0; cut < log.length; cut++) {
        const before = log.slice(0, cut).reduce(aggregate.reducer, aggregate.initialState);
        const after = viewRowAfter(view, id, log.slice(cut), before);
        expect(after?.row).toEqual(foldRows(view, [log]).get(id));
        expect(after?.version).toBe(log.length);
      }
    }
  },
);

describe("a view's lists (lambdas/core/projections/row-lists.ts)", () => {
  const ownerList = shoppingListRowProjection.lists![0]!;
  const withLists = (lists: readonly RowList<ShoppingListView>[]) => ({
    ...shoppingListRowProjection,
    lists,
  });
  const checkedView = (view: AnyRowProjection) =>
    checkCollections([...others, { ...list, view }], {
      ...deployment,
      projections: [...PROJECTIONS.filter((p) => p !== shoppingListRowProjection), view],
    });

  test.each([
    ['a page parameter', [{ ...ownerList, param: 'limit' }], /page parameter/],
    ['a parameter that is no name', [{ ...ownerList, param: 'owner-id' }], /camelCase/],
    ['a parameter twice', [ownerList, ownerList], /declared twice/],
    [
      'a filter on a list of keys',
      [{ ...ownerList, holds: 'keys' as const, filters: { status: /^active$/ } }],
      /holds keys only/,
    ],
    [
      'more lists holding rows than slots',
      [1, 2, 3].map((n) => ({ ...ownerList, param: `p${n}` })),
      /at most 2 lists may hold rows/,
    ],
  ])('refuses %s', (_, lists, message) => {
    expect(() => checkedView(withLists(lists))).toThrow(message);
  });

  test('refuses lists on a projection no collection serves (nothing would serve them)', () => {
    const summary = { ...customerSummaryProjection, lists: [{ ...ownerList }] } as AnyRowProjection;
    expect(() =>
      checkCollections([...others, list], {
        ...deployment,
        projections: [...PROJECTIONS, summary],
      }),
    ).toThrow(
      /customer-summary: declares lists, but lists are served for a collection's view only/,
    );
  });

  test('two lists of each kind take the four slots; a row is stored under its partitions only', () => {
    const lists = ['a', 'b'].flatMap((p) => [
      { ...ownerList, param: `${p}Rows` },
      { ...ownerList, param: `${p}Keys`, holds: 'keys' as const },
    ]);
    const view = withLists(lists);
    expect(listSlotsOf(view).map(({ list, slot }) => [list.param, slot.indexName])).toEqual([
      ['aRows', 'rows1'],
      ['aKeys', 'keys1'],
      ['bRows', 'rows2'],
      ['bKeys', 'keys2'],
    ]);
    const row = { ownerId: 'u-1', status: 'active', updatedAt: '2026-12-06T00:00:00Z' };
    expect(listAttributes(view, 'shopping-list@v1', row)).toMatchObject({
      rows1List: 'shopping-list@v1#aRows#u-1',
      rows1Sort: '2026-12-06T00:00:00Z',
      keys2List: 'shopping-list@v1#bKeys#u-1',
    });
    // A deleted list is in no partition: none of the slot attributes.
    expect(listAttributes(view, 'shopping-list@v1', { ...row, status: 'deleted' })).toEqual({});
  });
});
