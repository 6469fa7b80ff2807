/**
 * The rebuild's read pace (lambdas/core/repair/rebuild.ts): `--max-rate` keeps the events a
 * process reads per second at or under the cap, all segments together.
 */
import { createReadPace, paceDelay } from '../../lambdas/core/repair/rebuild';

test('given events read at the cap so far, when no time is left over, then reading goes on at once', () => {
  expect(paceDelay(1000, 1000, 1000)).toBe(0);
  expect(paceDelay(500, 1000, 900)).toBe(0);
});

test('given events read faster than the cap, when the next page is due, then it waits for the rest of their second', () => {
  expect(paceDelay(1500, 1000, 1000)).toBe(500);
});

test('given segments sharing one pace, when their pages add up past the cap, then each waits its share of the total', async () => {
  let now = 0;
  const waits: number[] = [];
  const pace = createReadPace(
    100,
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    },
  );
  await pace(50); // segment 0
  await pace(50); // segment 1: 100 events are due at 1 s
  now += 200; // a slow page
  await pace(100); // 200 events, due at 2 s, read by 1.2 s
  expect(waits).toEqual([500, 500, 800]);
  expect(now).toBe(2000);
});
