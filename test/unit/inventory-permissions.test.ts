/**
 * Who may do what with stock (lambdas/domain/inventory/permissions.ts), as scenarios run the way
 * the runner runs them: every signed-in user reads a SKU's stock (a shop shows what is
 * available); only an admin changes it (403 FORBIDDEN ADMIN_ONLY, `details.rule`).
 * Users: alice (a customer), support, admin.
 */
import { scenario } from '../../lambdas/core/given';
import type { Principal } from '../../lambdas/core/identity/principal';
import { mayRead } from '../../lambdas/core/identity/authorization';
import { INVENTORY_PERMISSIONS, inventoryAggregate } from '../../lambdas/domain/inventory';
import { inventoryRowProjection } from '../../lambdas/domain/inventory/projections';

const alice: Principal = { subject: 'alice', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };

const { given } = scenario(inventoryAggregate, 'sku-1');
const received = { type: 'inventory/received', payload: { quantity: 10 } };
const reservedFor = (orderId: string) => ({
  type: 'inventory/reserved',
  payload: { orderId, quantity: 2 },
});

const adminOnly = {
  code: 'FORBIDDEN',
  status: 403,
  message: INVENTORY_PERMISSIONS.ADMIN_ONLY,
  details: { rule: 'ADMIN_ONLY', aggregateId: 'sku-1' },
};

/** Each command on a SKU with 10 received and 2 reserved for o-1, and the event it decides. */
const COMMANDS: [string, Record<string, unknown>, { type: string; payload: unknown }][] = [
  ['inventory/receive', { quantity: 5 }, { type: 'inventory/received', payload: { quantity: 5 } }],
  ['inventory/reserve', { orderId: 'o-2', quantity: 2 }, reservedFor('o-2')],
  [
    'inventory/release',
    { orderId: 'o-1' },
    { type: 'inventory/released', payload: { orderId: 'o-1', quantity: 2 } },
  ],
  [
    'inventory/ship',
    { orderId: 'o-1' },
    { type: 'inventory/shipped', payload: { orderId: 'o-1', quantity: 2 } },
  ],
];

test.each(COMMANDS)(
  'given stock of a SKU, when an admin sends %s, then it is decided',
  (type, payload, event) =>
    given(received, reservedFor('o-1')).as(admin).when(type, payload).then(event),
);

test.each(COMMANDS)(
  'given stock of a SKU, when a customer sends %s, then 403 FORBIDDEN ADMIN_ONLY (she may read it: never 404)',
  (type, payload) =>
    given(received, reservedFor('o-1')).as(alice).when(type, payload).thenThrows(adminOnly),
);

test.each(COMMANDS)(
  'given stock of a SKU, when support sends %s, then 403 FORBIDDEN ADMIN_ONLY',
  (type, payload) =>
    given(received, reservedFor('o-1')).as(support).when(type, payload).thenThrows(adminOnly),
);

test('given no stock yet, when a customer receives some, then 403 FORBIDDEN ADMIN_ONLY', () =>
  given().as(alice).when('inventory/receive', { quantity: 5 }).thenThrows(adminOnly));

test.each([
  ['a customer', alice],
  ['support', support],
  ['an admin', admin],
] as const)("a SKU's stock row: %s may read it", (_who, principal) =>
  expect(mayRead(inventoryRowProjection.canRead, principal, { id: 'sku-1' })).toBe(true),
);
