/**
 * What the command client does after a send that got no success, stated once: pure, so every
 * rule is one test (test/unit/client-retry-policy.test.ts). A command is never dropped while it
 * may still apply: only the server's own 4xx is final; anything else (no answer, 408, 429, a
 * gateway's answer, any 5xx, COMMAND_DEADLINE) is resent with the same commandId, after the
 * backoff or the server's `Retry-After`, until `maxPendingMs` has passed since its first send;
 * then its outcome is unknown (it may have been applied by a send whose answer was lost). A
 * refused sign-in (SignInRequiredError) is neither: the command waits, unsent, for a sign-in.
 */
import { ApiError, SignInRequiredError } from './api';
import { type BackoffPolicy, backoffDelay } from './backoff';

export interface RetryPolicy {
  readonly backoff: BackoffPolicy;
  /** How long after its first send a command is still resent. Default 24 hours. */
  readonly maxPendingMs: number;
}

export const DEFAULT_MAX_PENDING_MS = 24 * 60 * 60 * 1000;

export type RetryDecision =
  /** The server's final word: the command is rejected (nothing was applied). */
  | { readonly kind: 'reject'; readonly error: ApiError }
  /** Resend after `delayMs` (the same commandId: a send that was applied answers its result). */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** Resent for `maxPendingMs` without an answer: settled as unknown, the aggregate re-read. */
  | { readonly kind: 'give-up' }
  /**
   * The server refused the token and a refreshed one, or the command is another user's: it
   * stays in the outbox, unsent, and sending waits until the user signs in (`signedIn()`).
   */
  | { readonly kind: 'sign-in'; readonly error: SignInRequiredError };

export interface FailedSend {
  readonly error: unknown;
  /** Sends of this command that got no final answer, this one included. */
  readonly attempts: number;
  /** When this command was first sent (ms since epoch). */
  readonly firstSentAt: number;
  readonly now: number;
}

export const decideAfterFailure = (
  failed: FailedSend,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision => {
  const { error, attempts, firstSentAt, now } = failed;
  // Before the deadline: a command that waited for a sign-in is not given up for it.
  if (error instanceof SignInRequiredError) return { kind: 'sign-in', error };
  if (error instanceof ApiError && error.isFinal) return { kind: 'reject', error };
  const left = firstSentAt + policy.maxPendingMs - now;
  if (left <= 0) return { kind: 'give-up' };
  const retryAfter = error instanceof ApiError ? (error.retryAfterMs ?? 0) : 0;
  const delayMs = Math.max(backoffDelay(attempts, policy.backoff, random), retryAfter);
  // The last resend comes at the bound, not after it.
  return { kind: 'retry', delayMs: Math.min(delayMs, left) };
};
