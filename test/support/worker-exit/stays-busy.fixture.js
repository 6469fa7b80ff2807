// A test file whose worker is still busy when Jest tells it to end: a loop runs on after the
// test for 3 s (test/integration/worker-exit-probe.test.ts).
test('leaves a busy loop behind', () => {
  setTimeout(() => {
    const until = Date.now() + 3_000;
    while (Date.now() < until);
  }, 0);
  expect(true).toBe(true);
});
