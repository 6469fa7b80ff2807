/**
 * Several tabs (or processes) on one outbox: one sender, held by a lock; the others follow
 * through a channel (commands queued, commands settled) and see the same pending state.
 */
import type { CommandConfirmedAction, CommandRejectedAction, CommandUnknownAction } from './state';

/** Grants the sender role to one holder at a time; `acquire` resolves with a release function. */
export interface SenderLock {
  acquire(signal: AbortSignal): Promise<() => void>;
}

export type SyncMessage =
  /** The shared storage changed (a command was queued): read it again. */
  | { readonly kind: 'changed' }
  /** `user` signed out in another tab: a tab of theirs forgets them too. */
  | { readonly kind: 'signedOut'; readonly user: string | undefined }
  /** The sender got a final answer (or gave up): apply the same action. */
  | {
      readonly kind: 'settled';
      readonly action: CommandConfirmedAction | CommandRejectedAction | CommandUnknownAction;
    };

export interface SyncChannel {
  post(message: SyncMessage): void;
  subscribe(listener: (message: SyncMessage) => void): () => void;
  close(): void;
}

const aborted = (signal: AbortSignal) =>
  signal.reason instanceof Error ? signal.reason : new Error('The lock request was aborted');

/** A lock within one process (FIFO), e.g. shared by two clients that model two tabs. */
export const memoryLock = (): SenderLock => {
  let held = false;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held = false;
  };
  return {
    acquire: (signal) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(aborted(signal));
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            release();
          });
        };
        const onAbort = () => {
          const i = waiting.indexOf(grant);
          if (i >= 0) waiting.splice(i, 1);
          reject(aborted(signal));
        };
        if (!held) {
          held = true;
          return grant();
        }
        waiting.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
};

/** Always granted: for a single client (one Node process, one tab). */
export const noLock = (): SenderLock => ({ acquire: async () => () => undefined });

interface LockManager {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/** Web Locks (`navigator.locks`): held across tabs of one origin until released or the tab dies. */
export const webLock = (name: string): SenderLock | undefined => {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return undefined;
  return {
    acquire: (signal) =>
      new Promise((resolve, reject) => {
        locks
          .request(name, { signal }, () => new Promise<void>((release) => resolve(release)))
          .catch(reject);
      }),
  };
};

/** BroadcastChannel (browsers and Node 18+): reaches every other client of the same name. */
export const broadcastChannel = (name: string): SyncChannel | undefined => {
  const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
  if (!Channel) return undefined;
  const channel = new Channel(name);
  const listeners = new Set<(message: SyncMessage) => void>();
  channel.onmessage = (event: MessageEvent) => {
    for (const listener of listeners) listener(event.data as SyncMessage);
  };
  return {
    post: (message) => channel.postMessage(message),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => channel.close(),
  };
};
