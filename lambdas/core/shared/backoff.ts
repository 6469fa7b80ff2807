/**
 * The one retry-delay formula: capped exponential backoff with jitter. Every retry loop uses it
 * (command runner, stream poller, row batch reads, the client, the bench), each with its own
 * policy, so "how long before retry n" is written once and tested once. Pure: the randomness
 * is a parameter.
 */

export interface BackoffPolicy {
  /** The ceiling of the first retry's wait (ms); each further retry doubles it. */
  readonly baseMs: number;
  /** No wait is longer than this (ms). */
  readonly maxMs: number;
  /**
   * 0..1: the share of each delay that is random, so many callers do not retry in step.
   * 0: exactly the ceiling; 1: "full jitter", anywhere from 0 to the ceiling.
   */
  readonly jitter: number;
}

/** The client's policy (client/backoff.ts re-exports it as its default). */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (1 = first retry), in whole milliseconds: the ceiling
 * `min(maxMs, baseMs * 2^(attempt-1))`, of which the `jitter` share is scaled by `random()`
 * (in [0, 1)).
 */
export const backoffDelay = (
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number => {
  // The exponent is bounded so a retry loop that runs for days cannot reach 2 ** Infinity
  // (Infinity * 0 = NaN for a zero base); 2 ** 1000 already exceeds any cap.
  const doublings = Math.min(1000, Math.max(0, attempt - 1));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
  return Math.round(ceiling * (1 - policy.jitter) + ceiling * policy.jitter * random());
};
