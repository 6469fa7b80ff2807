/**
 * Who may do what with a shopping list (lambdas/domain/shopping-list/permissions.ts), as
 * scenarios run the way the runner runs them: the read rule first (a caller who may not read the
 * list gets NOT_FOUND, as if it did not exist), then `authorize` (403 FORBIDDEN, `details.rule`),
 * then `decide`. The owner does anything; a user it is shared with reads it and changes its
 * items; support reads every list; an admin may do anything. Users: alice (the owner), bob,
 * support, admin.
 */
import { scenario } from '../../lambdas/core/given';
import type { Principal } from '../../lambdas/core/identity/principal';
import { mayRead } from '../../lambdas/core/identity/authorization';
import {
  SHOPPING_LIST_PERMISSIONS,
  shoppingListAggregate,
} from '../../lambdas/domain/shopping-list';
import {
  ownerListsProjection,
  shoppingListRowProjection,
} from '../../lambdas/domain/shopping-list/projections';

const alice: Principal = { subject: 'alice', roles: [] };
const bob: Principal = { subject: 'bob', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };

const { given } = scenario(shoppingListAggregate, 'list-1');
const createdBy = (ownerId: string) => ({
  type: 'shoppingList/created',
  payload: { name: 'Groceries', ownerId },
});
const alicesList = createdBy('alice');
const milk = { type: 'shoppingList/itemAdded', payload: { itemId: 'milk', text: 'Milk' } };
const shared = (userId: string) => ({ type: 'shoppingList/shared', payload: { userId } });
const unshared = (userId: string) => ({ type: 'shoppingList/unshared', payload: { userId } });

const forbidden = (rule: keyof typeof SHOPPING_LIST_PERMISSIONS) => ({
  code: 'FORBIDDEN',
  status: 403,
  message: SHOPPING_LIST_PERMISSIONS[rule],
  details: { rule, aggregateId: 'list-1' },
});
const notFound = { code: 'NOT_FOUND', status: 404, details: { aggregateId: 'list-1' } };

type Case = [string, Record<string, unknown>, { type: string; payload: unknown }];
/** Commands on the items of alice's list with milk on it (shared with carol), and their events. */
const ITEM_CHANGES: Case[] = [
  [
    'shoppingList/addItem',
    { itemId: 'tea', text: 'Tea' },
    { type: 'shoppingList/itemAdded', payload: { itemId: 'tea', text: 'Tea' } },
  ],
  [
    'shoppingList/toggleItem',
    { itemId: 'milk' },
    { type: 'shoppingList/itemToggled', payload: { itemId: 'milk', checked: true } },
  ],
  [
    'shoppingList/removeItem',
    { itemId: 'milk' },
    { type: 'shoppingList/itemRemoved', payload: { itemId: 'milk' } },
  ],
];
/** Commands on the list itself: the owner's alone. */
const LIST_CHANGES: Case[] = [
  [
    'shoppingList/rename',
    { name: 'Weekend' },
    { type: 'shoppingList/renamed', payload: { name: 'Weekend' } },
  ],
  ['shoppingList/share', { userId: 'dave' }, shared('dave')],
  ['shoppingList/unshare', { userId: 'carol' }, unshared('carol')],
  ['shoppingList/delete', {}, { type: 'shoppingList/deleted', payload: {} }],
];
const ALL_CHANGES = [...ITEM_CHANGES, ...LIST_CHANGES];
/** Alice's list with milk on it, shared with carol (whom unshare takes off). */
const alicesListWithMilk = [alicesList, milk, shared('carol')];

describe('shoppingList/create', () => {
  test('given no list, when alice creates one without ownerId, then alice owns it', () =>
    given().as(alice).when('shoppingList/create', { name: 'Groceries' }).then(alicesList));

  test('given no list, when alice creates one naming herself, then alice owns it', () =>
    given()
      .as(alice)
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'alice' })
      .then(alicesList));

  test('given no list, when alice creates one for bob, then 403 FORBIDDEN OWNER_IS_THE_CALLER', () =>
    given()
      .as(alice)
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'bob' })
      .thenThrows(forbidden('OWNER_IS_THE_CALLER')));

  test('given no list, when support creates one for alice, then 403 FORBIDDEN OWNER_IS_THE_CALLER', () =>
    given()
      .as(support)
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'alice' })
      .thenThrows(forbidden('OWNER_IS_THE_CALLER')));

  test('given no list, when an admin creates one for alice, then alice owns it', () =>
    given()
      .as(admin)
      .when('shoppingList/create', { name: 'Groceries', ownerId: 'alice' })
      .then(alicesList));
});

describe("alice's list", () => {
  test.each(ALL_CHANGES)(
    'given her list, when alice sends %s, then it is decided',
    (type, payload, event) =>
      given(...alicesListWithMilk)
        .as(alice)
        .when(type, payload)
        .then(event),
  );

  test.each(ALL_CHANGES)(
    'given her list not shared with bob, when bob sends %s, then 404 NOT_FOUND, as if it did not exist',
    (type, payload) =>
      given(...alicesListWithMilk)
        .as(bob)
        .when(type, payload)
        .thenThrows(notFound),
  );

  test.each(ITEM_CHANGES)(
    'given her list shared with bob, when bob sends %s, then it is decided',
    (type, payload, event) =>
      given(...alicesListWithMilk, shared('bob'))
        .as(bob)
        .when(type, payload)
        .then(event),
  );

  test.each(LIST_CHANGES)(
    'given her list shared with bob, when bob sends %s, then 403 FORBIDDEN OWNER_ONLY',
    (type, payload) =>
      given(...alicesListWithMilk, shared('bob'))
        .as(bob)
        .when(type, payload)
        .thenThrows(forbidden('OWNER_ONLY')),
  );

  test('given her list shared with bob, when bob unshares himself, then 403 FORBIDDEN OWNER_ONLY', () =>
    given(...alicesListWithMilk, shared('bob'))
      .as(bob)
      .when('shoppingList/unshare', { userId: 'bob' })
      .thenThrows(forbidden('OWNER_ONLY')));

  test.each(ALL_CHANGES)(
    'given her list shared with bob and then unshared, when bob sends %s, then 404 NOT_FOUND',
    (type, payload) =>
      given(...alicesListWithMilk, shared('bob'), unshared('bob'))
        .as(bob)
        .when(type, payload)
        .thenThrows(notFound),
  );

  test.each(ITEM_CHANGES)(
    'given her list, when support sends %s, then 403 FORBIDDEN OWNER_OR_SHARED',
    (type, payload) =>
      given(...alicesListWithMilk)
        .as(support)
        .when(type, payload)
        .thenThrows(forbidden('OWNER_OR_SHARED')),
  );

  test.each(LIST_CHANGES)(
    'given her list, when support sends %s, then 403 FORBIDDEN OWNER_ONLY',
    (type, payload) =>
      given(...alicesListWithMilk)
        .as(support)
        .when(type, payload)
        .thenThrows(forbidden('OWNER_ONLY')),
  );

  test.each(ALL_CHANGES)(
    'given her list, when an admin sends %s, then it is decided',
    (type, payload, event) =>
      given(...alicesListWithMilk)
        .as(admin)
        .when(type, payload)
        .then(event),
  );
});

describe('commands on a list that does not exist', () => {
  test.each(ALL_CHANGES)(
    'given no list, when bob sends %s, then 404 NOT_FOUND, as for a list he may not read',
    (type, payload) => given().as(bob).when(type, payload).thenThrows(notFound),
  );
});

describe('the rows of lists', () => {
  const row = (sharedWith: string[]) => ({ id: 'list-1', ownerId: 'alice', sharedWith }) as never;

  test.each([
    ['alice (the owner)', alice, [], true],
    ['bob, not shared with', bob, [], false],
    ['bob, shared with', bob, ['bob'], true],
    ['support', support, [], true],
    ['admin', admin, [], true],
  ] as const)(
    "given alice's list row, %s may read it: %p",
    (_who, principal, sharedWith, allowed) =>
      expect(mayRead(shoppingListRowProjection.canRead, principal, row([...sharedWith]))).toBe(
        allowed,
      ),
  );

  test.each([
    ['alice', alice, true],
    ['bob', bob, false],
    ['support', support, true],
  ] as const)("alice's owner-lists row: %s may read it: %p", (_who, principal, allowed) =>
    expect(mayRead(ownerListsProjection.canRead, principal, { ownerId: 'alice' } as never)).toBe(
      allowed,
    ),
  );

  test.each([
    ['alice, of her own', alice, 'alice', true],
    ['alice, of bob', alice, 'bob', false],
    ['support, of anyone', support, 'bob', true],
  ] as const)('the lists by owner: %s may list them: %p', (_who, principal, value, allowed) =>
    expect(shoppingListRowProjection.lists?.[0]?.mayList?.(principal, value)).toBe(allowed),
  );
});
