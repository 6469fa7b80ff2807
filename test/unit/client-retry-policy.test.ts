/** The command client's retry policy (client/retry-policy.ts): one rule, one sentence each. */
import { ApiError, NetworkError } from '../../client/api';
import { decideAfterFailure, type RetryPolicy } from '../../client/retry-policy';

const policy: RetryPolicy = {
  backoff: { baseMs: 100, maxMs: 1000, jitter: 0 },
  maxPendingMs: 60_000,
};
const T0 = Date.parse('2026-12-05T10:00:00Z');
const after = (error: unknown, { attempts = 1, elapsedMs = 0 } = {}) =>
  decideAfterFailure({ error, attempts, firstSentAt: T0, now: T0 + elapsedMs }, policy, () => 0);

test('the server’s own 4xx (a rule, validation, not found, a conflict) is final', () => {
  for (const [status, code] of [
    [422, 'RULE_VIOLATED'],
    [400, 'VALIDATION_FAILED'],
    [404, 'NOT_FOUND'],
    [409, 'VERSION_CONFLICT'],
  ] as const) {
    expect(after(new ApiError(status, code, 'no'))).toMatchObject({ kind: 'reject' });
  }
});

test('a 429 or a 408 is resent: nothing was done, later it may be', () => {
  expect(after(new ApiError(429, 'GATEWAY_ERROR', 'slow down'))).toEqual({
    kind: 'retry',
    delayMs: 100,
  });
  expect(after(new ApiError(408, 'GATEWAY_ERROR', 'timeout'))).toEqual({
    kind: 'retry',
    delayMs: 100,
  });
});

test('an answer outside the catalogue (a gateway, a proxy, an expired credential) is resent', () => {
  expect(after(new ApiError(403, 'GATEWAY_ERROR', 'Forbidden'))).toMatchObject({ kind: 'retry' });
});

test('any 5xx is resent, a 500 too: its first send may have committed, a resend answers it', () => {
  expect(after(new ApiError(500, 'INTERNAL', 'boom'), { attempts: 20 })).toEqual({
    kind: 'retry',
    delayMs: 1000,
  });
  expect(after(new ApiError(503, 'COMMAND_DEADLINE', 'late'))).toMatchObject({ kind: 'retry' });
});

test('no answer at all is resent with the backoff, doubling to its cap', () => {
  expect(after(new NetworkError('network', 'down'), { attempts: 3 })).toEqual({
    kind: 'retry',
    delayMs: 400,
  });
});

test('a Retry-After longer than the backoff is waited for', () => {
  const throttled = Object.assign(new ApiError(429, 'GATEWAY_ERROR', 'slow'), {
    retryAfterMs: 5000,
  });
  expect(after(throttled)).toEqual({ kind: 'retry', delayMs: 5000 });
});

test('the last resend comes at the bound, not after it', () => {
  expect(after(new NetworkError('network', 'down'), { attempts: 9, elapsedMs: 59_900 })).toEqual({
    kind: 'retry',
    delayMs: 100,
  });
});

test('past maxPendingMs since the first send, the command is given up (its outcome unknown)', () => {
  expect(after(new ApiError(500, 'INTERNAL', 'boom'), { elapsedMs: 60_000 })).toEqual({
    kind: 'give-up',
  });
});

test('a final answer is final at any time, even past the bound', () => {
  expect(after(new ApiError(422, 'RULE_VIOLATED', 'no'), { elapsedMs: 90_000 })).toMatchObject({
    kind: 'reject',
  });
});
