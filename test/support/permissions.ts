/** Rules for test-only aggregates that are not about permissions: everyone may do everything. */
import type { Principal } from '../../lambdas/core/identity/principal';

export const OPEN_RULES = {
  canRead: () => true,
  authorize: () => undefined,
  permissions: {},
} as const;

/** The actor of runner-level tests that are not about permissions: an admin. */
export const TEST_ACTOR: Principal = { subject: 'test-admin', roles: ['admin'] };
