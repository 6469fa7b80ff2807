/**
 * The one read rule (lambdas/core/identity/authorization.ts, `mayRead`) behind every read: rows,
 * lists and pushes. The domain tests check each view's `canRead`; these, what wraps it.
 */
import { mayRead, type ReadRule } from '../../lambdas/core/identity/authorization';
import type { Principal } from '../../lambdas/core/identity/principal';

const alice: Principal = { subject: 'alice', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };

const ownRowsOnly: ReadRule<{ ownerId: string }> = (principal, row) =>
  row.ownerId === principal.subject;

test('given a rule, when a non-admin asks, then the rule decides', () => {
  expect(mayRead(ownRowsOnly, alice, { ownerId: 'alice' })).toBe(true);
  expect(mayRead(ownRowsOnly, alice, { ownerId: 'bob' })).toBe(false);
});

test('given a rule that refuses, when an admin asks, then the admin may read', () => {
  expect(mayRead(ownRowsOnly, admin, { ownerId: 'bob' })).toBe(true);
});

test('given no rule, when anyone but an admin asks, then only the admin may read', () => {
  expect(mayRead(undefined, alice, {})).toBe(false);
  expect(mayRead(undefined, support, {})).toBe(false);
  expect(mayRead(undefined, admin, {})).toBe(true);
});
