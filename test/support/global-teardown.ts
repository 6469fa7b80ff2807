import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningDynamoDbLocal } from '../../local/emulators/dynamodb-local';

/**
 * What the Jest workers that did not end in time still held (./worker-exit-probe.cjs writes it):
 * printed under Jest's "A worker process has failed to exit gracefully", which names nothing.
 */
const reportWorkersLeftRunning = (): void => {
  const dir = join(tmpdir(), `jest-worker-exit-${process.pid}`);
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) console.error(readFileSync(join(dir, file), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
};

export default async function globalTeardown(): Promise<void> {
  reportWorkersLeftRunning();
  await (globalThis as { __dynamo?: RunningDynamoDbLocal }).__dynamo?.stop();
}
