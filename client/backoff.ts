/** Retry delays for sends that got no final answer: capped exponential backoff with jitter. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0..1: the share of each delay that is random, so many clients do not retry in step. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, jitter: 0.5 };

/** The delay before retry number `attempt` (1 = first retry); `random` is in [0, 1). */
export const backoffDelay = (
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (1 - policy.jitter) + ceiling * policy.jitter * random());
};
