/**
 * Deterministic commandIds of a process's commands (server side only: it hashes with
 * node:crypto, and process-manager.ts is imported by the browser client through the
 * deployment list).
 */
import { createHash } from 'node:crypto';
import type { ProcessManager } from './process-manager';

/**
 * The commandId of a command a process sends: from the process manager (name and version), what triggered the
 * step (an event's aggregate and version, or a timer), the step's index and the command's key.
 * Within the API's commandId alphabet (A-Z a-z 0-9 . _ : -) and length (128).
 */
export const processCommandId = (
  manager: Pick<ProcessManager, 'name'> & { readonly version?: number },
  trigger: string,
  step: number,
  key: string,
): string => {
  const digest = createHash('sha256')
    .update(JSON.stringify([manager.name, manager.version ?? 1, trigger, step, key]))
    .digest('base64url')
    .slice(0, 32);
  return `pm:${manager.name.slice(0, 64)}:${digest}`;
};
