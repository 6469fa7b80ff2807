// A second test file that leaves nothing behind: two files, so Jest runs them in workers
// (test/integration/worker-exit-probe.test.ts).
test('also ends clean', () => {
  expect([1, 2].length).toBe(2);
});
