/**
 * Preloaded into the test run's Node processes (scripts/test.sh, NODE_OPTIONS=--require), it acts
 * only in a Jest worker: when Jest tells the worker to end, it waits 250 ms (Jest kills a worker
 * still running after 500 ms and prints "A worker process has failed to exit gracefully"), and
 * if the worker is still there, writes what keeps its event loop alive (the kinds of Node's
 * active resources, timers included; each server, socket and child process with its address,
 * ports or command line) to <tmp>/jest-worker-exit-<Jest's pid>/<worker pid>.txt. A worker that
 * ends in time writes nothing. The global teardown (./global-teardown.ts) prints those files:
 * the warning then says what was left, where it alone names nothing. Plain CommonJS, so Node
 * loads it before any transform (test/integration/worker-exit-probe.test.ts).
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** jest-worker's message telling a child to end (CHILD_MESSAGE_END in jest-worker's types). */
const CHILD_MESSAGE_END = 2;
const DUMP_AFTER_MS = 250;

/** One handle as a line: its kind, and what tells it apart (ports, address, process). */
const describe = (handle) => {
  const kind = handle?.constructor?.name ?? typeof handle;
  try {
    if (kind === 'Socket' && handle._handle?.constructor?.name === 'Pipe') {
      return "Socket on a pipe (the worker's stdio or its channel to Jest)";
    }
    if (kind === 'Socket') {
      const remote = handle.remotePort ? ` -> ${handle.remoteAddress}:${handle.remotePort}` : '';
      return `Socket ${handle.localAddress}:${handle.localPort}${remote}`;
    }
    if (kind === 'Server') return `Server ${JSON.stringify(handle.address())}`;
    if (kind === 'ChildProcess') return `ChildProcess ${handle.pid} ${handle.spawnargs.join(' ')}`;
  } catch (error) {
    return `${kind} (${error.message})`;
  }
  return kind;
};

const dump = () => {
  const dir = join(tmpdir(), `jest-worker-exit-${process.ppid}`);
  mkdirSync(dir, { recursive: true });
  const lines = [
    `Jest worker ${process.pid}, ${DUMP_AFTER_MS} ms after it was told to end:`,
    `  resources: ${process.getActiveResourcesInfo().join(', ')}`,
    // Node's own list of the handles that keep the loop alive (undocumented, for diagnosis only).
    ...process._getActiveHandles().map((handle) => `  ${describe(handle)}`),
  ];
  writeFileSync(join(dir, `${process.pid}.txt`), `${lines.join('\n')}\n`);
};

const isJestWorker = /jest-worker[\\/]build[\\/]processChild\.js$/.test(process.argv[1] ?? '');
if (isJestWorker && typeof process.send === 'function') {
  const onMessage = (message) => {
    if (!Array.isArray(message) || message[0] !== CHILD_MESSAGE_END) return;
    // Let go of the IPC channel as Jest does, so this listener keeps nothing alive.
    process.removeListener('message', onMessage);
    setTimeout(dump, DUMP_AFTER_MS).unref();
  };
  process.on('message', onMessage);
}
