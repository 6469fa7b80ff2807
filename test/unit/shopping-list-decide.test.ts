import {
  MAX_ITEM_IDS,
  MAX_ITEMS,
  MAX_SHARES,
  SHOPPING_LIST_RULES,
  shoppingListAggregate,
} from '../../lambdas/domain/shopping-list';
import { scenario, SCENARIO_ACTOR } from '../../lambdas/core/given';

const { given } = scenario(shoppingListAggregate, 'list-1');
const created = {
  type: 'shoppingList/created',
  payload: { name: 'Groceries', ownerId: 'u-1' },
};
const added = (itemId: string, text = `Item ${itemId}`) => ({
  type: 'shoppingList/itemAdded',
  payload: { itemId, text },
});
const toggled = (itemId: string, checked: boolean) => ({
  type: 'shoppingList/itemToggled',
  payload: { itemId, checked },
});
const removed = (itemId: string) => ({ type: 'shoppingList/itemRemoved', payload: { itemId } });
const deleted = { type: 'shoppingList/deleted', payload: {} };
const shared = (userId: string) => ({ type: 'shoppingList/shared', payload: { userId } });
const unshared = (userId: string) => ({ type: 'shoppingList/unshared', payload: { userId } });
const milk = added('milk', 'Milk');

const rulesAsserted = new Set<string>();
const rule = (name: keyof typeof SHOPPING_LIST_RULES) => {
  rulesAsserted.add(name);
  return {
    code: 'RULE_VIOLATED',
    status: 422,
    message: SHOPPING_LIST_RULES[name],
    details: expect.objectContaining({ rule: name }),
  };
};
const invalid = (path: string) => ({
  code: 'VALIDATION_FAILED',
  status: 400,
  details: { issues: expect.arrayContaining([expect.objectContaining({ path })]) },
});

describe('shoppingList/create', () => {
  test('creates a list', () =>
    given().when('shoppingList/create', { name: 'Groceries', ownerId: 'u-1' }).then(created));
  test('surrounding spaces are not part of the name', () =>
    given().when('shoppingList/create', { name: '  Groceries \t', ownerId: 'u-1' }).then(created));
  test('on an existing list: 409 ALREADY_EXISTS', () =>
    given(created)
      .when('shoppingList/create', { name: 'Other', ownerId: 'u-1' })
      .thenThrows({ code: 'ALREADY_EXISTS', status: 409 }));
  test('on a deleted list: still 409 (the history stays)', () =>
    given(created, deleted)
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'u-1' })
      .thenThrows({ code: 'ALREADY_EXISTS', status: 409 }));
  test.each([[''], ['   '], ['x'.repeat(101)]])('name %p: 400', (name) =>
    given()
      .when('shoppingList/create', { name, ownerId: 'u-1' })
      .thenThrows(invalid('payload.name')),
  );
  test('a name of 100 characters (after trimming) is the longest allowed', () =>
    given()
      .when('shoppingList/create', { name: ` ${'x'.repeat(100)} `, ownerId: 'u-1' })
      .then({ type: 'shoppingList/created', payload: { name: 'x'.repeat(100), ownerId: 'u-1' } }));
  test('given no list, when it is created without ownerId, then its owner is the caller', () =>
    given()
      .when('shoppingList/create', { name: 'Groceries' })
      .then({
        type: 'shoppingList/created',
        payload: { name: 'Groceries', ownerId: SCENARIO_ACTOR.subject },
      }));
  test.each([[''], ['x'.repeat(129)]])('ownerId %p: 400', (ownerId) =>
    given()
      .when('shoppingList/create', { name: 'Groceries', ownerId })
      .thenThrows(invalid('payload.ownerId')),
  );
  test('unknown field: 400', () =>
    given()
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'u-1', shared: true })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
});

describe('commands on an unknown list: 404', () => {
  test.each([
    ['shoppingList/rename', { name: 'New' }],
    ['shoppingList/addItem', { itemId: 'a', text: 'Milk' }],
    ['shoppingList/toggleItem', { itemId: 'a' }],
    ['shoppingList/removeItem', { itemId: 'a' }],
    ['shoppingList/delete', {}],
    ['shoppingList/share', { userId: 'u-2' }],
    ['shoppingList/unshare', { userId: 'u-2' }],
  ])('%s', (type, payload) =>
    given().when(type, payload).thenThrows({ code: 'NOT_FOUND', status: 404 }),
  );
});

describe('commands on a deleted list: 422 LIST_DELETED', () => {
  test.each([
    ['shoppingList/rename', { name: 'New' }],
    ['shoppingList/addItem', { itemId: 'bread', text: 'Bread' }],
    ['shoppingList/toggleItem', { itemId: 'milk' }],
    ['shoppingList/removeItem', { itemId: 'milk' }],
    ['shoppingList/delete', {}],
    ['shoppingList/share', { userId: 'u-2' }],
    ['shoppingList/unshare', { userId: 'u-2' }],
  ])('%s', (type, payload) =>
    given(created, milk, deleted).when(type, payload).thenThrows(rule('LIST_DELETED')),
  );
});

describe('shoppingList/rename', () => {
  test('renames a list', () =>
    given(created)
      .when('shoppingList/rename', { name: ' Weekend ' })
      .then({ type: 'shoppingList/renamed', payload: { name: 'Weekend' } }));
  test('to the current name: 422 SAME_NAME', () =>
    given(created)
      .when('shoppingList/rename', { name: ' Groceries ' })
      .thenThrows(rule('SAME_NAME')));
  test('a change of case is a new name', () =>
    given(created)
      .when('shoppingList/rename', { name: 'GROCERIES' })
      .then({ type: 'shoppingList/renamed', payload: { name: 'GROCERIES' } }));
  test('to the name of a past rename: the current name counts', () =>
    given(created, { type: 'shoppingList/renamed', payload: { name: 'Weekend' } })
      .when('shoppingList/rename', { name: 'Groceries' })
      .then({ type: 'shoppingList/renamed', payload: { name: 'Groceries' } }));
  test('a blank name: 400', () =>
    given(created).when('shoppingList/rename', { name: ' ' }).thenThrows(invalid('payload.name')));
});

describe('shoppingList/addItem', () => {
  test('adds an item, unchecked', () =>
    given(created).when('shoppingList/addItem', { itemId: 'milk', text: '  Milk ' }).then(milk));
  test('an id already on the list: 422 DUPLICATE_ITEM_ID', () =>
    given(created, milk)
      .when('shoppingList/addItem', { itemId: 'milk', text: 'Oat milk' })
      .thenThrows(rule('DUPLICATE_ITEM_ID')));
  test('the id of a removed item: 422 DUPLICATE_ITEM_ID', () =>
    given(created, milk, removed('milk'))
      .when('shoppingList/addItem', { itemId: 'milk', text: 'Milk' })
      .thenThrows(rule('DUPLICATE_ITEM_ID')));
  test('the text of an item on the list, in another case and spacing: 422 DUPLICATE_ITEM_TEXT', () =>
    given(created, milk)
      .when('shoppingList/addItem', { itemId: 'milk-2', text: ' mILK  ' })
      .thenThrows(rule('DUPLICATE_ITEM_TEXT')));
  test('the text of a removed item can be added again under a new id', () =>
    given(created, milk, removed('milk'))
      .when('shoppingList/addItem', { itemId: 'milk-2', text: 'milk' })
      .then(added('milk-2', 'milk')));
  test(`item ${MAX_ITEMS + 1}: 422 TOO_MANY_ITEMS`, () => {
    const full = Array.from({ length: MAX_ITEMS }, (_, i) => added(`i${i}`));
    given(created, ...full)
      .when('shoppingList/addItem', { itemId: 'one-more', text: 'One more' })
      .thenThrows(rule('TOO_MANY_ITEMS'));
  });
  test(`item ${MAX_ITEMS}: still allowed`, () => {
    const almost = Array.from({ length: MAX_ITEMS - 1 }, (_, i) => added(`i${i}`));
    given(created, ...almost)
      .when('shoppingList/addItem', { itemId: 'last', text: 'Last' })
      .then(added('last', 'Last'));
  });
  test('removed items free their place on the list', () => {
    const full = Array.from({ length: MAX_ITEMS }, (_, i) => added(`i${i}`));
    given(created, ...full, removed('i0'))
      .when('shoppingList/addItem', { itemId: 'one-more', text: 'One more' })
      .then(added('one-more', 'One more'));
  });
  test(`item id ${MAX_ITEM_IDS + 1} over the list's life: 422 ITEM_IDS_EXHAUSTED`, () => {
    const history = Array.from({ length: MAX_ITEM_IDS }, (_, i) => [
      added(`i${i}`),
      removed(`i${i}`),
    ]).flat();
    given(created, ...history)
      .when('shoppingList/addItem', { itemId: 'one-more', text: 'One more' })
      .thenThrows(rule('ITEM_IDS_EXHAUSTED'));
  });
  test.each([
    ['payload.itemId', { itemId: 'has space', text: 'Milk' }],
    ['payload.itemId', { itemId: 'x'.repeat(65), text: 'Milk' }],
    ['payload.text', { itemId: 'a', text: '   ' }],
    ['payload.text', { itemId: 'a', text: 'x'.repeat(201) }],
  ])('%s invalid: 400', (path, payload) =>
    given(created).when('shoppingList/addItem', payload).thenThrows(invalid(path)),
  );
});

describe('shoppingList/toggleItem', () => {
  test('checks an unchecked item', () =>
    given(created, milk)
      .when('shoppingList/toggleItem', { itemId: 'milk' })
      .then(toggled('milk', true)));
  test('unchecks a checked item', () =>
    given(created, milk, toggled('milk', true))
      .when('shoppingList/toggleItem', { itemId: 'milk' })
      .then(toggled('milk', false)));
  test('an unknown item: 422 ITEM_NOT_FOUND', () =>
    given(created, milk)
      .when('shoppingList/toggleItem', { itemId: 'bread' })
      .thenThrows(rule('ITEM_NOT_FOUND')));
  test('a removed item: 422 ITEM_REMOVED', () =>
    given(created, milk, removed('milk'))
      .when('shoppingList/toggleItem', { itemId: 'milk' })
      .thenThrows(rule('ITEM_REMOVED')));
});

describe('shoppingList/removeItem', () => {
  test('removes an item, checked or not', () => {
    given(created, milk).when('shoppingList/removeItem', { itemId: 'milk' }).then(removed('milk'));
    given(created, milk, toggled('milk', true))
      .when('shoppingList/removeItem', { itemId: 'milk' })
      .then(removed('milk'));
  });
  test('an unknown item: 422 ITEM_NOT_FOUND', () =>
    given(created, milk)
      .when('shoppingList/removeItem', { itemId: 'bread' })
      .thenThrows(rule('ITEM_NOT_FOUND')));
  test('an item removed before: 422 ITEM_REMOVED', () =>
    given(created, milk, removed('milk'))
      .when('shoppingList/removeItem', { itemId: 'milk' })
      .thenThrows(rule('ITEM_REMOVED')));
});

describe('shoppingList/delete', () => {
  test('deletes a list, empty or not', () => {
    given(created).when('shoppingList/delete').then(deleted);
    given(created, milk, toggled('milk', true)).when('shoppingList/delete').then(deleted);
  });
  test('with a payload field: 400', () =>
    given(created)
      .when('shoppingList/delete', { now: true })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
});

describe('shoppingList/share', () => {
  test('shares a list with another user', () =>
    given(created).when('shoppingList/share', { userId: 'u-2' }).then(shared('u-2')));
  test('with its owner: 422 SHARE_WITH_OWNER', () =>
    given(created)
      .when('shoppingList/share', { userId: 'u-1' })
      .thenThrows(rule('SHARE_WITH_OWNER')));
  test('with a user it is shared with already: 422 ALREADY_SHARED', () =>
    given(created, shared('u-2'))
      .when('shoppingList/share', { userId: 'u-2' })
      .thenThrows(rule('ALREADY_SHARED')));
  test('with a user it was shared with, then unshared: shared again', () =>
    given(created, shared('u-2'), unshared('u-2'))
      .when('shoppingList/share', { userId: 'u-2' })
      .then(shared('u-2')));
  test(`with user ${MAX_SHARES + 1}: 422 TOO_MANY_SHARES`, () => {
    const full = Array.from({ length: MAX_SHARES }, (_, i) => shared(`friend-${i}`));
    given(created, ...full)
      .when('shoppingList/share', { userId: 'one-more' })
      .thenThrows(rule('TOO_MANY_SHARES'));
  });
  test(`with user ${MAX_SHARES}: still allowed`, () => {
    const almost = Array.from({ length: MAX_SHARES - 1 }, (_, i) => shared(`friend-${i}`));
    given(created, ...almost)
      .when('shoppingList/share', { userId: 'last' })
      .then(shared('last'));
  });
  test.each([[''], ['x'.repeat(129)]])('userId %p: 400', (userId) =>
    given(created).when('shoppingList/share', { userId }).thenThrows(invalid('payload.userId')),
  );
});

describe('shoppingList/unshare', () => {
  test('unshares a list with a user it is shared with', () =>
    given(created, shared('u-2'))
      .when('shoppingList/unshare', { userId: 'u-2' })
      .then(unshared('u-2')));
  test('with a user it is not shared with: 422 NOT_SHARED', () =>
    given(created, shared('u-2'))
      .when('shoppingList/unshare', { userId: 'u-3' })
      .thenThrows(rule('NOT_SHARED')));
  test('with a user it was unshared with already: 422 NOT_SHARED', () =>
    given(created, shared('u-2'), unshared('u-2'))
      .when('shoppingList/unshare', { userId: 'u-2' })
      .thenThrows(rule('NOT_SHARED')));
});

afterAll(() => {
  // Every rule of the table is asserted by some test above.
  expect([...rulesAsserted].sort()).toEqual(Object.keys(SHOPPING_LIST_RULES).sort());
});
