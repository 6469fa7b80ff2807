/** Rules for test-only aggregates that are not about permissions: everyone may do everything. */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../lambdas/core/identity/principal';

export const OPEN_RULES = {
  canRead: () => true,
  authorize: () => undefined,
  permissions: {},
} as const;

/** The actor of runner-level tests that are not about permissions: an admin. */
export const TEST_ACTOR: Principal = { subject: 'test-admin', roles: ['admin'] };

/** The command context of such tests: TEST_ACTOR, the real clock, fresh ids. */
export const TEST_CONTEXT = {
  correlationId: 'c',
  actor: TEST_ACTOR,
  now: () => new Date().toISOString(),
  newId: randomUUID,
};
