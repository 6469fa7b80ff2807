import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningDynamoDbLocal } from '../../local/emulators/dynamodb-local';

/**
 * What the Jest workers that were killed or ended late were left holding (./worker-exit-probe.cjs
 * keeps a file per worker until it ends in time): printed under Jest's "A worker process has
 * failed to exit gracefully", which names nothing.
 */
const reportWorkersLeftRunning = (): void => {
  const dir = join(tmpdir(), `jest-worker-exit-${process.pid}`);
  if (!existsSync(dir)) return;
  const reports = readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8'));
  if (reports.length > 0) {
    console.error('Jest workers that did not end in time (test/support/worker-exit-probe.cjs):');
    for (const report of reports) console.error(report);
  }
  rmSync(dir, { recursive: true, force: true });
};

export default async function globalTeardown(): Promise<void> {
  reportWorkersLeftRunning();
  await (globalThis as { __dynamo?: RunningDynamoDbLocal }).__dynamo?.stop();
}
