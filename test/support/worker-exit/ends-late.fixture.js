// A test file that leaves a 380 ms timer: its worker ends by itself, but late
// (test/integration/worker-exit-probe.test.ts).
test('leaves a short timer', () => {
  setTimeout(() => undefined, 380);
  expect(true).toBe(true);
});
