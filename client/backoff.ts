/**
 * Retry delays for sends that got no final answer: the one backoff formula
 * (lambdas/core/shared/backoff.ts) with the client's default policy (250 ms doubling to 30 s, half of
 * each delay random).
 */
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../lambdas/core/shared/backoff';
