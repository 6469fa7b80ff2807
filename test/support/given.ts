/**
 * The given/when/then helpers moved to the public module lambdas/core/given.ts (a user's domain
 * tests import it). This re-export keeps older imports working; import the public module.
 */
export * from '../../lambdas/core/given';
