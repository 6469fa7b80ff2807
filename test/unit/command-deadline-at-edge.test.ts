/**
 * When a command's answer is due, stamped at the edge (docs/reference/commands.md, "Command
 * deadline"): the bound counts from the gateway's receipt of the request.
 */
import type { Context } from 'aws-lambda';
import { commandDeadline } from '../../lambdas/handlers/http-edge';

const NOW = 1_800_000_000_000;
const deps = { commandDeadlineMs: 5_000 } as Parameters<typeof commandDeadline>[0];
const lambda = (remainingMs: number) =>
  ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW));
afterEach(() => jest.restoreAllMocks());

test('given a request the gateway received 800 ms before the function ran, then its answer is due 4.2 s from now', () => {
  expect(commandDeadline(deps, lambda(10_000), NOW - 800)).toBe(NOW + 4_200);
});

test('given no receipt time, then the bound counts from now', () => {
  expect(commandDeadline(deps, lambda(10_000))).toBe(NOW + 5_000);
});

test('given a receipt time later than now (clocks apart), then the bound counts from now', () => {
  expect(commandDeadline(deps, lambda(10_000), NOW + 300)).toBe(NOW + 5_000);
});

test('given a receipt time older than the bound (a made-up event), then the bound counts from now', () => {
  expect(commandDeadline(deps, lambda(10_000), NOW - 60_000)).toBe(NOW + 5_000);
});

test('given a function with 2 s left, then the answer is due before its timeout, less the margin', () => {
  expect(commandDeadline(deps, lambda(2_000), NOW - 100)).toBe(NOW + 1_500);
});

test('given a function already past its margin, then the answer is due now', () => {
  expect(commandDeadline(deps, lambda(200), NOW)).toBe(NOW);
});
