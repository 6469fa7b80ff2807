/**
 * Who may do what with an order (lambdas/domain/order/permissions.ts), as scenarios run the way
 * the runner runs them: the read rule first (a caller who may not read the order gets NOT_FOUND,
 * as if it did not exist), then `authorize` (403 FORBIDDEN, `details.rule`), then `decide`.
 * Users: alice and bob (customers), support, admin.
 */
import { scenario } from '../../lambdas/core/given';
import type { Principal } from '../../lambdas/core/identity/principal';
import { ORDER_PERMISSIONS, orderAggregate } from '../../lambdas/domain/order';
import {
  customerSummaryProjection,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import { mayRead } from '../../lambdas/core/identity/authorization';

const alice: Principal = { subject: 'alice', roles: [] };
const bob: Principal = { subject: 'bob', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };

const { given } = scenario(orderAggregate, 'order-1');
const createdFor = (customerId: string) => ({
  type: 'order/created',
  payload: { customerId, currency: 'EUR' },
});
const alicesOrder = createdFor('alice');
const lineA = {
  type: 'order/lineAdded',
  payload: { lineId: 'a', sku: 'SKU-A', quantity: 1, unitPriceMinor: 100 },
};
const submitted = { type: 'order/submitted', payload: {} };
const cancelled = { type: 'order/cancelled', payload: {} };
const confirmed = { type: 'order/confirmed', payload: {} };
const shortOfA = { reason: 'not-enough-stock', skusShort: ['SKU-A'] };

const forbidden = (rule: keyof typeof ORDER_PERMISSIONS) => ({
  code: 'FORBIDDEN',
  status: 403,
  message: ORDER_PERMISSIONS[rule],
  details: { rule, aggregateId: 'order-1' },
});
const notFound = { code: 'NOT_FOUND', status: 404, details: { aggregateId: 'order-1' } };

/** Every command but create, on alice's draft order with line a, and the events it decides. */
const CHANGES: [string, Record<string, unknown>, { type: string; payload: unknown }][] = [
  [
    'order/addLine',
    { lineId: 'b', sku: 'SKU-B', quantity: 2, unitPrice: 50 },
    {
      type: 'order/lineAdded',
      payload: { lineId: 'b', sku: 'SKU-B', quantity: 2, unitPriceMinor: 50 },
    },
  ],
  [
    'order/changeQuantity',
    { lineId: 'a', quantity: 3 },
    { type: 'order/quantityChanged', payload: { lineId: 'a', quantity: 3 } },
  ],
  ['order/removeLine', { lineId: 'a' }, { type: 'order/lineRemoved', payload: { lineId: 'a' } }],
  ['order/submit', {}, submitted],
  ['order/cancel', {}, cancelled],
  ['order/delete', {}, { type: 'order/deleted', payload: {} }],
];
/** The changes only the owner (and an admin) may make: all but cancel. */
const OWNER_ONLY = CHANGES.filter(([type]) => type !== 'order/cancel');

describe('order/create', () => {
  test('given no order, when alice creates one without customerId, then it is created for alice', () =>
    given().as(alice).when('order/create', { currency: 'EUR' }).then(alicesOrder));

  test('given no order, when alice creates one naming herself, then it is created for alice', () =>
    given()
      .as(alice)
      .when('order/create', { customerId: 'alice', currency: 'EUR' })
      .then(alicesOrder));

  test('given no order, when alice creates one for bob, then 403 FORBIDDEN CUSTOMER_IS_THE_CALLER', () =>
    given()
      .as(alice)
      .when('order/create', { customerId: 'bob', currency: 'EUR' })
      .thenThrows(forbidden('CUSTOMER_IS_THE_CALLER')));

  test('given no order, when support creates one for alice, then 403 FORBIDDEN CUSTOMER_IS_THE_CALLER', () =>
    given()
      .as(support)
      .when('order/create', { customerId: 'alice', currency: 'EUR' })
      .thenThrows(forbidden('CUSTOMER_IS_THE_CALLER')));

  test('given no order, when an admin creates one for alice, then it is created for alice', () =>
    given()
      .as(admin)
      .when('order/create', { customerId: 'alice', currency: 'EUR' })
      .then(alicesOrder));

  test("given alice's order, when bob creates one under its id, then 404 NOT_FOUND (never 409: it is not his to know of)", () =>
    given(alicesOrder).as(bob).when('order/create', { currency: 'EUR' }).thenThrows(notFound));
});

describe("commands on alice's order", () => {
  test.each(CHANGES)(
    "given alice's draft order, when alice sends %s, then it is decided",
    (type, payload, event) => given(alicesOrder, lineA).as(alice).when(type, payload).then(event),
  );

  test.each(CHANGES)(
    "given alice's draft order, when bob sends %s, then 404 NOT_FOUND, as if it did not exist",
    (type, payload) => given(alicesOrder, lineA).as(bob).when(type, payload).thenThrows(notFound),
  );

  test.each(OWNER_ONLY)(
    "given alice's draft order, when support sends %s, then 403 FORBIDDEN OWNER_ONLY",
    (type, payload) =>
      given(alicesOrder, lineA).as(support).when(type, payload).thenThrows(forbidden('OWNER_ONLY')),
  );

  test("given alice's draft order, when support cancels it, then it is cancelled", () =>
    given(alicesOrder, lineA).as(support).when('order/cancel').then(cancelled));

  test("given alice's submitted order, when support cancels it, then it is cancelled", () =>
    given(alicesOrder, lineA, submitted).as(support).when('order/cancel').then(cancelled));

  test.each(CHANGES)(
    "given alice's draft order, when an admin sends %s, then it is decided",
    (type, payload, event) => given(alicesOrder, lineA).as(admin).when(type, payload).then(event),
  );

  test("given alice's cancelled order, when support cancels it again, then the order's own rule answers (422), not a permission", () =>
    given(alicesOrder, cancelled)
      .as(support)
      .when('order/cancel')
      .thenThrows({ code: 'RULE_VIOLATED', status: 422 }));
});

describe("the fulfilment workflow's commands on alice's submitted order", () => {
  /** Confirm and reject, and the events they decide on a submitted order. */
  const OUTCOMES: [string, Record<string, unknown>, { type: string; payload: unknown }][] = [
    ['order/confirm', {}, confirmed],
    ['order/reject', shortOfA, { type: 'order/rejected', payload: shortOfA }],
  ];

  test.each(OUTCOMES)(
    "given alice's submitted order, when alice sends %s, then 403 FORBIDDEN WORKFLOW_ONLY",
    (type, payload) =>
      given(alicesOrder, lineA, submitted)
        .as(alice)
        .when(type, payload)
        .thenThrows(forbidden('WORKFLOW_ONLY')),
  );

  test.each(OUTCOMES)(
    "given alice's submitted order, when support sends %s, then 403 FORBIDDEN WORKFLOW_ONLY",
    (type, payload) =>
      given(alicesOrder, lineA, submitted)
        .as(support)
        .when(type, payload)
        .thenThrows(forbidden('WORKFLOW_ONLY')),
  );

  test.each(OUTCOMES)(
    "given alice's submitted order, when bob sends %s, then 404 NOT_FOUND, as if it did not exist",
    (type, payload) =>
      given(alicesOrder, lineA, submitted).as(bob).when(type, payload).thenThrows(notFound),
  );

  test.each(OUTCOMES)(
    "given alice's submitted order, when an admin (as the workflow runs) sends %s, then it is decided",
    (type, payload, event) =>
      given(alicesOrder, lineA, submitted).as(admin).when(type, payload).then(event),
  );

  test("given alice's draft order, when alice confirms it, then 403 WORKFLOW_ONLY before the order's own rule", () =>
    given(alicesOrder, lineA)
      .as(alice)
      .when('order/confirm')
      .thenThrows(forbidden('WORKFLOW_ONLY')));

  test("given alice's confirmed order, when alice cancels it, then it is cancelled", () =>
    given(alicesOrder, lineA, submitted, confirmed).as(alice).when('order/cancel').then(cancelled));

  test("given alice's confirmed order, when support cancels it, then it is cancelled", () =>
    given(alicesOrder, lineA, submitted, confirmed)
      .as(support)
      .when('order/cancel')
      .then(cancelled));

  test("given alice's confirmed order, when bob cancels it, then 404 NOT_FOUND", () =>
    given(alicesOrder, lineA, submitted, confirmed)
      .as(bob)
      .when('order/cancel')
      .thenThrows(notFound));
});

describe('commands on an order that does not exist', () => {
  // Refusing a missing order would tell bob apart the ids that exist (404) from those that do not.
  test.each(CHANGES)(
    'given no order, when bob sends %s, then 404 NOT_FOUND, as for an order he may not read',
    (type, payload) => given().as(bob).when(type, payload).thenThrows(notFound),
  );

  test.each([
    ['order/confirm', {}],
    ['order/reject', shortOfA],
  ])('given no order, when alice sends %s, then 404 NOT_FOUND, not 403', (type, payload) =>
    given().as(alice).when(type, payload).thenThrows(notFound),
  );
});

describe('the read models of orders', () => {
  const summaryOf = (customerId: string) => ({ customerId }) as never;

  test.each([
    ['alice', alice, true],
    ['bob', bob, false],
    ['support', support, true],
    ['admin', admin, true],
  ] as const)("alice's customer summary: %s may read it: %p", (_name, principal, allowed) =>
    expect(mayRead(customerSummaryProjection.canRead, principal, summaryOf('alice'))).toBe(allowed),
  );

  test.each([
    ['alice', alice, false],
    ['support', support, true],
    ['admin', admin, true],
  ] as const)(
    'the removed lines (across customers): %s may read them: %p',
    (_name, principal, allowed) =>
      expect(mayRead(removedLinesProjection.canRead, principal, { sku: 'SKU-A' })).toBe(allowed),
  );
});
