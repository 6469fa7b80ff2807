// A test file that leaves a server listening: its Jest worker cannot end by itself
// (test/integration/worker-exit-probe.test.ts).
const net = require('node:net');

test('leaves a server open', async () => {
  const server = net.createServer();
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  expect(server.listening).toBe(true);
});
