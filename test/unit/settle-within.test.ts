/**
 * settleWithin (lambdas/core/shared/settle-within.ts): how long a writer's answer waits for its
 * side work (a snapshot, a push) before answering without it.
 */
import { settleWithin } from '../../lambdas/core/shared/settle-within';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('given side work that ends within its budget, then the writer sees it settled', async () => {
  const work = new Promise((r) => setTimeout(r, 50));
  const outcome = settleWithin(work, 100);
  await jest.advanceTimersByTimeAsync(50);
  await expect(outcome).resolves.toBe('settled');
  expect(jest.getTimerCount()).toBe(0);
});

test('given side work still running at its budget, then the writer answers late without it, and the work goes on', async () => {
  let done = false;
  const work = new Promise((r) => setTimeout(r, 500)).then(() => (done = true));
  const outcome = settleWithin(work, 100);
  await jest.advanceTimersByTimeAsync(100);
  await expect(outcome).resolves.toBe('late');
  expect(done).toBe(false);
  await jest.advanceTimersByTimeAsync(400);
  expect(done).toBe(true);
});
