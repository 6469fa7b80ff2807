/**
 * The one backoff formula (lambdas/core/shared/backoff.ts): each rule one sentence, and each caller's
 * policy shown to give what its own formula gave before the formulas were merged.
 */
import { backoffDelay, DEFAULT_BACKOFF } from '../../lambdas/core/shared/backoff';
import { UNPROCESSED_ITEMS_BACKOFF } from '../../lambdas/core/shared/dynamodb-limits';

const exact = { baseMs: 100, maxMs: 1000, jitter: 0 };
const full = { baseMs: 100, maxMs: 1000, jitter: 1 };
const half = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
const attempts = [1, 2, 3, 4, 5, 6, 10, 50];

describe('backoffDelay', () => {
  test('the first retry waits the base', () => expect(backoffDelay(1, exact)).toBe(100));

  test('each further retry doubles the wait', () =>
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, exact))).toEqual([100, 200, 400, 800]));

  test('no wait exceeds the cap', () =>
    expect([5, 6, 30, 10_000].map((n) => backoffDelay(n, exact))).toEqual([
      1000, 1000, 1000, 1000,
    ]));

  test('an attempt below 1 waits as the first retry', () =>
    expect([0, -3].map((n) => backoffDelay(n, exact))).toEqual([100, 100]));

  test('full jitter waits a random share of the whole ceiling', () => {
    expect(backoffDelay(3, full, () => 0)).toBe(0);
    expect(backoffDelay(3, full, () => 0.25)).toBe(100);
  });

  test('partial jitter keeps the fixed share and randomises the rest', () => {
    expect(backoffDelay(3, half, () => 0)).toBe(200);
    expect(backoffDelay(3, half, () => 0.5)).toBe(300);
  });

  test('waits are whole milliseconds', () =>
    expect(backoffDelay(1, { baseMs: 5, maxMs: 200, jitter: 1 }, () => 0.33)).toBe(2));

  test('a loop retrying for days still gets the cap, even from a zero base', () => {
    expect(backoffDelay(1e9, exact)).toBe(1000);
    expect(backoffDelay(1e9, { baseMs: 0, maxMs: 1000, jitter: 0 })).toBe(0);
  });

  test('without a policy it is the client default: 250 ms doubling to 30 s, half random', () =>
    expect([1, 2, 10].map((n) => backoffDelay(n, undefined, () => 1))).toEqual([250, 500, 30_000]));

  test('without a random source it uses Math.random, within the jitter share', () => {
    for (const n of attempts) {
      const ms = backoffDelay(n, DEFAULT_BACKOFF);
      const ceiling = Math.min(30_000, 250 * 2 ** (n - 1));
      expect(ms).toBeGreaterThanOrEqual(Math.round(ceiling / 2));
      expect(ms).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('the merged formulas give what each caller computed before', () => {
  const draws = [0, 0.1, 0.5, 0.999];

  test('unprocessed batch items: min(1000, 20 * 2^attempt), attempt from 1', () => {
    for (const n of attempts)
      expect(backoffDelay(n, UNPROCESSED_ITEMS_BACKOFF)).toBe(Math.min(1000, 20 * 2 ** n));
  });

  test('the command runner: random * min(max, base * 2^attempt), attempt from 0', () => {
    const retry = { baseDelayMs: 5, maxDelayMs: 200 };
    for (const attempt of [0, 1, 2, 5, 10])
      for (const r of draws)
        expect(backoffDelay(attempt + 1, { baseMs: 5, maxMs: 200, jitter: 1 }, () => r)).toBe(
          Math.round(r * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt)),
        );
  });
});
