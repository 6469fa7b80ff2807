/**
 * The command runner's decisions for hot aggregates (lambdas/core/command/command-runner-policy.ts):
 * lost races retried at once first when the policy says so, then the jittered backoff; and
 * whether a command that waited for its turn may start before its deadline.
 */
import {
  afterLostRace,
  DEFAULT_RETRY_POLICY,
  queuedTurn,
  type RetryPolicy,
} from '../../lambdas/core/command/command-runner-policy';

const highest = () => 0.999;

describe('after a lost race, with immediate retries', () => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, immediateRetries: 2 };
  const after = (attempts: number) =>
    afterLostRace({ attempts, slowestAttemptMs: 20, now: 0, policy, random: highest });

  test('given the first two lost races, then each retries at once', () => {
    expect(after(1)).toEqual({ kind: 'retry', delayMs: 0 });
    expect(after(2)).toEqual({ kind: 'retry', delayMs: 0 });
  });
  test('given the third, then the backoff starts from its first step (one attempt time)', () =>
    expect(after(3)).toEqual({ kind: 'retry', delayMs: 20 }));
  test('given the fourth, then it doubles', () =>
    expect(after(4)).toEqual({ kind: 'retry', delayMs: 40 }));
  test('given no immediate retries, then the first lost race already waits', () =>
    expect(
      afterLostRace({
        attempts: 1,
        slowestAttemptMs: 20,
        now: 0,
        policy: DEFAULT_RETRY_POLICY,
        random: highest,
      }),
    ).toEqual({ kind: 'retry', delayMs: 20 }));
  test('given an immediate retry that cannot end by the deadline, then the answer is the deadline', () =>
    expect(
      afterLostRace({ attempts: 1, slowestAttemptMs: 20, now: 990, deadline: 1_000, policy }),
    ).toEqual({ kind: 'deadline' }));
});

describe('a command whose turn came in the per-aggregate queue', () => {
  test('given time for a run as slow as the slowest recent one, then it starts', () =>
    expect(queuedTurn({ now: 0, deadline: 1_000, expectedRunMs: 900 })).toBe('start'));
  test('given less time left than that, then it answers the deadline without running', () =>
    expect(queuedTurn({ now: 200, deadline: 1_000, expectedRunMs: 900 })).toBe('deadline'));
  test('given no run yet, then it starts while the deadline is ahead', () =>
    expect(queuedTurn({ now: 999, deadline: 1_000, expectedRunMs: 0 })).toBe('start'));
  test('given the deadline reached, then it does not start even with no run measured', () =>
    expect(queuedTurn({ now: 1_000, deadline: 1_000, expectedRunMs: 0 })).toBe('deadline'));
  test('given no deadline, then it always starts', () =>
    expect(queuedTurn({ now: 10 ** 12, expectedRunMs: 10 ** 6 })).toBe('start'));
});
