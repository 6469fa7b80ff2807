/**
 * Where the outbox lives between reloads and restarts: one record per command, keyed by
 * commandId (never one blob rewritten per change). Memory and IndexedDB here; a JSON file for
 * Node is in `client/node.ts` (it needs node:fs, which a browser bundle must not see).
 */
import type { OutboxEntry } from './state';

export interface OutboxStorage {
  /** Every pending command, in `seq` order. */
  load(): Promise<OutboxEntry[]>;
  /** Adds or replaces the record of `entry.commandId`. */
  put(entry: OutboxEntry): Promise<void>;
  remove(commandId: string): Promise<void>;
}

const sorted = (entries: Iterable<OutboxEntry>) => [...entries].sort((a, b) => a.seq - b.seq);

/** Lives as long as the object: share one between two clients to model two tabs. */
export const memoryStorage = (initial: readonly OutboxEntry[] = []): OutboxStorage => {
  const records = new Map(initial.map((e) => [e.commandId, e]));
  return {
    load: async () => sorted(records.values()),
    put: async (entry) => {
      records.set(entry.commandId, entry);
    },
    remove: async (commandId) => {
      records.delete(commandId);
    },
  };
};

// The few IndexedDB shapes used here, so the client needs no DOM typings.
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
}
interface IdbStore {
  getAll(): IdbRequest<OutboxEntry[]>;
  put(value: OutboxEntry): IdbRequest<unknown>;
  delete(key: string): IdbRequest<unknown>;
}
interface IdbTransaction {
  objectStore(name: string): IdbStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string, options: { keyPath: string }): unknown;
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  close(): void;
  onversionchange: (() => void) | null;
}
export interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest;
}

const STORE = 'outbox';

/** IndexedDB (browsers; `fake-indexeddb` in tests): one record per command. */
export const indexedDbStorage = (
  options: { readonly name?: string; readonly indexedDB?: IdbFactory } = {},
): OutboxStorage => {
  const factory =
    options.indexedDB ?? (globalThis as { indexedDB?: IdbFactory }).indexedDB ?? undefined;
  if (!factory) throw new Error('indexedDbStorage: no IndexedDB here; pass options.indexedDB');
  let opened: Promise<IdbDatabase> | undefined;
  const db = () =>
    (opened ??= new Promise<IdbDatabase>((resolve, reject) => {
      const request = factory.open(options.name ?? 'redux-backend-outbox', 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE)) {
          request.result.createObjectStore(STORE, { keyPath: 'commandId' });
        }
      };
      request.onsuccess = () => {
        const database = request.result;
        // Another page deletes or upgrades the database (a sign-out deletes a user's): let it,
        // and open it again on the next use.
        database.onversionchange = () => {
          database.close();
          opened = undefined;
        };
        resolve(database);
      };
      request.onerror = () => reject(request.error);
    }));
  // Resolves when the transaction commits, so a put is durable before the first send.
  const run = async <T>(
    mode: 'readonly' | 'readwrite',
    work: (store: IdbStore) => IdbRequest<T>,
  ): Promise<T> => {
    const tx = (await db()).transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    load: async () => sorted(await run('readonly', (s) => s.getAll())),
    put: async (entry) => {
      await run('readwrite', (s) => s.put(entry));
    },
    remove: async (commandId) => {
      await run('readwrite', (s) => s.delete(commandId));
    },
  };
};
