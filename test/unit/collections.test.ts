/**
 * The deployment's collections (lambdas/handlers/deployment.ts) are checked when the module
 * loads: a bad declaration fails the cold start instead of serving a half-declared collection.
 */
import { checkCollections, type CollectionDeclaration } from '../../lambdas/core/collections';
import type { AnyAggregate } from '../../lambdas/core/aggregate';
import { orderAggregate } from '../../lambdas/domain/order';
import { customerSummaryProjection } from '../../lambdas/domain/order/projections';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';
import { shoppingListRowProjection } from '../../lambdas/domain/shopping-list/projections';
import { AGGREGATES, COLLECTIONS, PROJECTIONS } from '../../lambdas/handlers/deployment';
import { RESERVED_SEGMENTS } from '../../lambdas/handlers/routes';

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

test('the deployment serves the shopping list as shopping-lists, from its row projection', () => {
  expect(COLLECTIONS.map((c) => [c.collection, c.aggregate.type, c.view.name])).toEqual([
    ['shopping-lists', 'shoppingList', 'shopping-list'],
  ]);
  expect(checkCollections([list], deployment)).toEqual([list]);
});

test.each([
  ['a reserved segment', { ...list, collection: 'orders' }, /reserved/],
  ['another reserved segment', { ...list, collection: 'read-models' }, /reserved/],
  ['the commands segment', { ...list, collection: 'commands' }, /reserved/],
  ['camelCase', { ...list, collection: 'shoppingLists' }, /kebab-case/],
  ['a trailing dash', { ...list, collection: 'lists-' }, /kebab-case/],
  ['a view of another aggregate', { ...list, view: customerSummaryProjection }, /reads order/],
  [
    'an aggregate not deployed',
    { ...list, aggregate: { ...shoppingListAggregate } as AnyAggregate },
    /not in the deployment's aggregates/,
  ],
  [
    'a view not listed',
    { ...list, view: { ...shoppingListRowProjection, name: 'lists-elsewhere' } },
    /not in the deployment's projections/,
  ],
])('refuses %s', (_, declaration, message) => {
  expect(() => checkCollections([declaration], deployment)).toThrow(message);
});

test('the reserved segments are the static first segments of the route table', () => {
  expect([...RESERVED_SEGMENTS].sort()).toEqual(['commands', 'orders', 'read-models']);
});

test('refuses a collection declared twice', () => {
  expect(() => checkCollections([list, list], deployment)).toThrow(/declared twice/);
});

test('the order aggregate has no collection: it keeps its static routes', () => {
  expect(COLLECTIONS.some((c) => c.aggregate === orderAggregate)).toBe(false);
});
