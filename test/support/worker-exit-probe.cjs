/**
 * Preloaded into the test run's Node processes (scripts/test.sh, NODE_OPTIONS=--require), it acts
 * only in a Jest worker. Jest tells each worker to end once the tests are done, and kills one
 * still running after 500 ms with "A worker process has failed to exit gracefully", which names
 * nothing. So each worker keeps a file, <tmp>/jest-worker-exit-<Jest's pid>/<worker pid>.txt,
 * that says what it would be left holding, and removes it when it exits by itself in good time
 * (under 300 ms after the request to end; a later exit is added to the file):
 * - from its start: that it has not handled the request to end (if it is killed with this, its
 *   event loop was busy and never got to it);
 * - when told to end, and again 250 ms later: what keeps its event loop alive (the kinds of
 *   Node's active resources, timers included; each server, socket and child process with its
 *   address, ports or command line).
 * The global teardown (./global-teardown.ts) prints the files left: those of the workers that
 * Jest had to kill or that ended late. Plain CommonJS, so Node loads it before any transform
 * (test/integration/worker-exit-probe.test.ts).
 */
const { appendFileSync, mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** jest-worker's message telling a child to end (CHILD_MESSAGE_END in jest-worker's types). */
const CHILD_MESSAGE_END = 2;
const SECOND_LOOK_AFTER_MS = 250;
/** An exit this long after the request to end is reported, though the worker ended by itself. */
const LATE_EXIT_MS = 300;

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

const isJestWorker = /jest-worker[\\/]build[\\/]processChild\.js$/.test(process.argv[1] ?? '');
if (isJestWorker && typeof process.send === 'function') {
  const dir = join(tmpdir(), `jest-worker-exit-${process.ppid}`);
  const file = join(dir, `${process.pid}.txt`);
  const startedAt = Date.now();
  /** When Jest told it to end. */
  let toldAt;
  const keep = (lines) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${[`Jest worker ${process.pid}`, ...lines].join('\n')}\n`);
  };
  const holding = (when) => [
    `${when}, it was holding:`,
    `  resources: ${process.getActiveResourcesInfo().join(', ')}`,
    // Node's own list of the handles that keep the loop alive (undocumented, for diagnosis only).
    ...process._getActiveHandles().map((handle) => `  ${describe(handle)}`),
  ];
  keep(['  never handled the request to end: its event loop was busy (or it was never sent)']);
  const onMessage = (message) => {
    if (!Array.isArray(message) || message[0] !== CHILD_MESSAGE_END) return;
    // Let go of the IPC channel as Jest does, so this listener keeps nothing alive.
    process.removeListener('message', onMessage);
    toldAt = Date.now();
    keep(holding(`told to end ${Math.round((toldAt - startedAt) / 1000)} s after it started`));
    const secondLook = () => keep(holding(`${Date.now() - toldAt} ms after it was told to end`));
    setTimeout(secondLook, SECOND_LOOK_AFTER_MS).unref();
  };
  process.on('message', onMessage);
  process.on('exit', () => {
    // Ending by itself in good time: nothing to report. Ending by itself but late: Jest may have
    // counted it as killed (its 500 ms timer can fire before it sees the exit), so say when.
    const endedAfterMs = toldAt === undefined ? undefined : Date.now() - toldAt;
    if (endedAfterMs === undefined || endedAfterMs < LATE_EXIT_MS) rmSync(file, { force: true });
    else appendFileSync(file, `  ended by itself ${endedAfterMs} ms after it was told to end\n`);
  });
}
