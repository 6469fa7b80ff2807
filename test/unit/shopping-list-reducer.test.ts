import { configureStore } from '../support/redux-store';
import {
  type ShoppingListEventAction,
  shoppingListAggregate,
  shoppingListReducer,
  type ShoppingListState,
} from '../../lambdas/domain/shopping-list';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/command/aggregate';
import { toAction } from '../../lambdas/core/events/events';
import { AT, stamp } from '../../lambdas/core/given';

const history = stamp('list-7', [
  { type: 'shoppingList/created', payload: { name: 'Groceries', ownerId: 'u-9' } },
  { type: 'shoppingList/itemAdded', payload: { itemId: 'milk', text: 'Milk' } },
  { type: 'shoppingList/itemAdded', payload: { itemId: 'eggs', text: 'Eggs' } },
  { type: 'shoppingList/itemAdded', payload: { itemId: 'tea', text: 'Tea' } },
  { type: 'shoppingList/itemToggled', payload: { itemId: 'eggs', checked: true } },
  { type: 'shoppingList/itemRemoved', payload: { itemId: 'milk' } },
  { type: 'shoppingList/renamed', payload: { name: 'Weekend' } },
])
  .map((e, i) => ({ ...e, occurredAt: `2026-01-01T00:00:0${i}.000Z` }))
  .map((e) => toAction(e) as ShoppingListEventAction);

const fold = (events: readonly ShoppingListEventAction[], from: ShoppingListState = null) =>
  events.reduce(shoppingListReducer, from);

test('the reducer folds the history into the list view', () => {
  expect(fold(history)).toEqual({
    id: 'list-7',
    ownerId: 'u-9',
    name: 'Weekend',
    status: 'active',
    items: [
      { itemId: 'eggs', text: 'Eggs', checked: true },
      { itemId: 'tea', text: 'Tea', checked: false },
    ],
    itemCount: 2,
    checkedCount: 1,
    removedItemIds: ['milk'],
    sharedWith: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:06.000Z',
    version: 7,
  });
});

test('a share adds the user to sharedWith, an unshare takes that user out and keeps the others', () => {
  const [bob, carol, unshareBob] = stamp(
    'list-7',
    [
      { type: 'shoppingList/shared', payload: { userId: 'bob' } },
      { type: 'shoppingList/shared', payload: { userId: 'carol' } },
      { type: 'shoppingList/unshared', payload: { userId: 'bob' } },
    ],
    7,
  ).map((e) => toAction(e) as ShoppingListEventAction);
  const sharedWithBoth = fold([bob!, carol!], fold(history));
  expect(sharedWithBoth).toMatchObject({ sharedWith: ['bob', 'carol'], version: 9 });
  expect(fold([unshareBob!], sharedWithBoth)).toMatchObject({
    sharedWith: ['carol'],
    version: 10,
  });
});

test('a row built before sharing existed (no sharedWith) is shared all the same', () => {
  const { sharedWith: _absent, ...before } = fold(history)!;
  const [share] = stamp(
    'list-7',
    [{ type: 'shoppingList/shared', payload: { userId: 'bob' } }],
    7,
  ).map((e) => toAction(e) as ShoppingListEventAction);
  expect(fold([share!], before)).toMatchObject({ sharedWith: ['bob'] });
});

test('version and updatedAt come from the last event; createdAt from the first', () => {
  const afterThree = fold(history.slice(0, 3));
  expect(afterThree).toMatchObject({
    version: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:02.000Z',
    itemCount: 2,
    checkedCount: 0,
  });
});

test('a toggle sets the box to the value the event carries', () => {
  const [toggle] = stamp(
    'list-7',
    [{ type: 'shoppingList/itemToggled', payload: { itemId: 'eggs', checked: false } }],
    history.length,
  ).map((e) => toAction(e) as ShoppingListEventAction);
  const state = fold([toggle!], fold(history));
  expect(state!.items).toEqual([
    { itemId: 'eggs', text: 'Eggs', checked: false },
    { itemId: 'tea', text: 'Tea', checked: false },
  ]);
  expect(state!.checkedCount).toBe(0);
});

test('delete marks the list deleted and keeps its items', () => {
  const [deleted] = stamp('list-7', [{ type: 'shoppingList/deleted', payload: {} }], 7).map(
    (e) => toAction(e) as ShoppingListEventAction,
  );
  const before = fold(history)!;
  expect(fold([deleted!], before)).toEqual({
    ...before,
    status: 'deleted',
    updatedAt: AT,
    version: 8,
  });
});

test('the reducer is pure: same input, same output, input untouched', () => {
  const frozen = history.map((e) => Object.freeze(e));
  const first = fold(frozen);
  expect(fold(frozen)).toEqual(first);
});

test('events of another type, and events before creation, change nothing', () => {
  const state = fold(history.slice(0, 2));
  const foreign = { type: 'order/lineAdded', payload: { lineId: 'a' }, meta: history[1]!.meta };
  expect(shoppingListReducer(state, foreign as never)).toBe(state);
  expect(shoppingListReducer(null, history[1]!)).toBeNull();
});

test('the aggregate folds with the same reducer', () => {
  expect(foldEvents(shoppingListAggregate as AnyAggregate, history)).toEqual(fold(history));
});

test('the same reducer runs in a Redux store on the client', () => {
  const store = configureStore(shoppingListReducer);
  history.forEach((e) => store.dispatch(e));
  expect(store.getState()).toEqual(fold(history));
});
