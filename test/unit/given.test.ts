/**
 * The public domain test kit (lambdas/core/given.ts) fails when it should: each check throws
 * node's AssertionError on a mismatch, with no test runner behind it.
 */
import { AssertionError } from 'node:assert';
import { matchesPartially, scenario } from '../../lambdas/core/given';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';

const { given } = scenario(shoppingListAggregate, 'list-1');
const created = { type: 'shoppingList/created', payload: { name: 'Groceries', ownerId: 'u-1' } };
const added = { type: 'shoppingList/itemAdded', payload: { itemId: 'i1', text: 'Milk' } };
const addMilk = { itemId: 'i1', text: 'Milk' };

test('then: other events, fewer or more, are an AssertionError', () => {
  const when = given(created).when('shoppingList/addItem', addMilk);
  expect(() => when.then(added)).not.toThrow();
  expect(() => when.then({ ...added, payload: { ...added.payload, text: 'Tea' } })).toThrow(
    AssertionError,
  );
  expect(() => when.then()).toThrow(AssertionError);
  expect(() => when.then(added, added)).toThrow(AssertionError);
});

test('then: an error thrown by decide is not swallowed', () => {
  expect(() => given().when('shoppingList/addItem', addMilk).then(added)).toThrow(
    expect.objectContaining({ code: 'NOT_FOUND' }),
  );
});

test('thenThrows: no error, or another error, is an AssertionError', () => {
  expect(() =>
    given(created).when('shoppingList/addItem', addMilk).thenThrows({ code: 'NOT_FOUND' }),
  ).toThrow(/threw nothing/);
  expect(() =>
    given().when('shoppingList/addItem', addMilk).thenThrows({ code: 'RULE_VIOLATED' }),
  ).toThrow(AssertionError);
  expect(() =>
    given().when('shoppingList/addItem', addMilk).thenThrows({ code: 'NOT_FOUND', status: 404 }),
  ).not.toThrow();
});

test('partial matching: named keys only, nested; arrays whole; matchers asked', () => {
  const error = Object.assign(new Error('m'), {
    code: 'X',
    details: { rule: 'R', extra: 1, list: [{ a: 1, b: 2 }] },
  });
  expect(matchesPartially(error, { code: 'X', message: 'm' })).toBe(true);
  expect(matchesPartially(error, { details: { rule: 'R' } })).toBe(true);
  expect(matchesPartially(error, { details: { rule: 'S' } })).toBe(false);
  expect(matchesPartially(error, { details: { list: [{ a: 1 }] } })).toBe(true);
  expect(matchesPartially(error, { details: { list: [] } })).toBe(false);
  expect(matchesPartially(error, { details: expect.objectContaining({ extra: 1 }) })).toBe(true);
  expect(matchesPartially(error, { missing: undefined })).toBe(true);
  expect(matchesPartially(error, { code: undefined })).toBe(false);
});
