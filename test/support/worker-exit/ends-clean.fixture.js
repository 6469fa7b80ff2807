// A test file that leaves nothing behind (test/integration/worker-exit-probe.test.ts).
test('ends clean', () => {
  expect(1 + 1).toBe(2);
});
