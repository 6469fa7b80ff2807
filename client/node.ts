/**
 * Node-only parts of the client (import `client/node`, never from a browser bundle): an outbox
 * kept in a JSON file, one record per command, written atomically (temp file + rename).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OutboxStorage } from './outbox';
import type { OutboxEntry } from './state';

export const jsonFileStorage = (path: string): OutboxStorage => {
  mkdirSync(dirname(path), { recursive: true });
  const read = (): Record<string, OutboxEntry> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, OutboxEntry>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  };
  const write = (records: Record<string, OutboxEntry>) => {
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(records));
    renameSync(temp, path);
  };
  return {
    load: async () => Object.values(read()).sort((a, b) => a.seq - b.seq),
    put: async (entry) => write({ ...read(), [entry.commandId]: entry }),
    remove: async (commandId) => {
      const records = read();
      delete records[commandId];
      write(records);
    },
  };
};

export * from './index';
