/**
 * The command client: a Redux middleware with a persisted outbox. A dispatched command gets its
 * commandId at once, is written to the outbox before its first send, and is sent in order per
 * aggregate (one in flight per aggregate, aggregates in parallel) by the one client holding the
 * sender lock. No answer (network, timeout, 503) means: retry later with the same commandId.
 * A 4xx is final: the command leaves the outbox and the view is recomputed.
 */
import type { Dispatch, Middleware, MiddlewareAPI, UnknownAction } from 'redux';
import { ApiError, type ApiClient, type CommandAnswer, NetworkError } from './api';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { decideAfterFailure, DEFAULT_MAX_PENDING_MS, type RetryPolicy } from './retry-policy';
import { indexedDbStorage, memoryStorage, type OutboxStorage } from './outbox';
import {
  type ClientAction,
  type ClientState,
  type CommandConfirmedAction,
  type CommandRejectedAction,
  type CommandRejection,
  type CommandUnknownAction,
  confirmAnswer,
  isSendCommand,
  type OutboxEntry,
  type SendCommandAction,
  viewLoaded,
} from './state';
import { broadcastChannel, noLock, type SenderLock, type SyncChannel, webLock } from './tabs';
import { aggregateOfCommand, aggregateOfType, type DeploymentView, visibleIn } from './aggregates';

export type CommandOutcome =
  | {
      readonly state: 'confirmed';
      readonly commandId: string;
      readonly aggregateId: string;
      readonly version: number;
      readonly replayed: boolean;
    }
  | ({
      readonly state: 'rejected';
      readonly commandId: string;
      readonly aggregateId: string;
    } & CommandRejection)
  | {
      /** Resent for `maxPendingMs` with no final answer: it may or may not have been applied. */
      readonly state: 'unknown';
      readonly commandId: string;
      readonly aggregateId: string;
    };

/** What `dispatch(sendCommand(...))` returns: settles when the server has the final word. */
export type CommandPromise = Promise<CommandOutcome> & { readonly commandId: string };

/** The dispatch a store with this middleware has. */
export interface CommandDispatch {
  (action: SendCommandAction): CommandPromise;
}

export interface CommandClientOptions<Root = unknown> {
  readonly api: ApiClient;
  /** Default: IndexedDB where present, else memory (lost on exit: pass a file storage in Node). */
  readonly storage?: OutboxStorage;
  /** Default: Web Locks where present, else always granted (one client). */
  readonly lock?: SenderLock;
  /** Default: BroadcastChannel where present; `null` for none. */
  readonly channel?: SyncChannel | null;
  /** Names the lock, the channel and the IndexedDB database. Default `redux-backend`. */
  readonly name?: string;
  /** Where the client's slice is in the root state. Default `state.client`. */
  readonly selectState?: (root: Root) => ClientState;
  readonly now?: () => string;
  readonly newId?: () => string;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  /**
   * How long after its first send a command without a final answer is still resent (network
   * errors, 408, 429, 5xx...); then it settles as `unknown` (client/retry-policy.ts). Default
   * 24 hours.
   */
  readonly maxPendingMs?: number;
}

export interface CommandClient {
  readonly middleware: Middleware<CommandDispatch>;
  /** Reads the persisted outbox, then sends it (once this client holds the sender lock). */
  start(): Promise<void>;
  /** Stops sending: waits for the sends in flight, releases the lock, closes the channel. */
  stop(): Promise<void>;
  /** Resolves when this client's outbox is empty. */
  idle(): Promise<void>;
  /** Reads a view from the server into the confirmed state (`loadView('orders', id)`). */
  loadView<View extends DeploymentView = DeploymentView>(
    collection: string,
    id: string,
    options?: { readonly minVersion?: number },
  ): Promise<View>;
  /** Retries now every command waiting for its backoff (e.g. after the app knows it is online). */
  retryNow(): void;
}

const newUuid = (): string => {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
};

const defaultStorage = (name: string): OutboxStorage =>
  (globalThis as { indexedDB?: unknown }).indexedDB ? indexedDbStorage({ name }) : memoryStorage();

interface BrowserEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export const createCommandClient = <Root = { client: ClientState }>(
  options: CommandClientOptions<Root>,
): CommandClient => {
  const name = options.name ?? 'redux-backend';
  const { api } = options;
  const storage = options.storage ?? defaultStorage(name);
  const lock = options.lock ?? webLock(name) ?? noLock();
  const channel = options.channel === undefined ? broadcastChannel(name) : options.channel;
  const selectState =
    options.selectState ?? ((root: Root) => (root as { client: ClientState }).client);
  const now = options.now ?? (() => new Date().toISOString());
  const newId = options.newId ?? newUuid;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const retryPolicy: RetryPolicy = {
    backoff,
    maxPendingMs: options.maxPendingMs ?? DEFAULT_MAX_PENDING_MS,
  };

  let store: MiddlewareAPI<Dispatch, Root> | undefined;
  let started: Promise<void> | undefined;
  let stopped = false;
  let sender = false;
  let release: (() => void) | undefined;
  const stopping = new AbortController();
  /** Commands whose outbox record is written: only these may be sent. */
  const durable = new Set<string>();
  /** Aggregates with a send loop running. */
  const workers = new Map<string, Promise<void>>();
  const waiters = new Map<string, (outcome: CommandOutcome) => void>();
  const idleWaiters = new Set<() => void>();
  /** Wakes every backoff wait at once (online again, retryNow, stop). */
  let wake: Array<() => void> = [];
  let lastSeq = 0;
  const cleanups: Array<() => void> = [];

  const state = () => selectState(store!.getState());
  const dispatch = (action: ClientAction) => store!.dispatch(action as unknown as UnknownAction);

  const nextSeq = () => (lastSeq = Math.max(Date.now() * 1000, lastSeq + 1));

  const checkIdle = () => {
    if (store && state().outbox.length === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters.clear();
    }
  };

  const outcomeOf = (
    action: CommandConfirmedAction | CommandRejectedAction | CommandUnknownAction,
  ): CommandOutcome => {
    switch (action.type) {
      case 'command/confirmed': {
        const { commandId, aggregateId, version, replayed } = action.payload;
        return { state: 'confirmed', commandId, aggregateId, version, replayed };
      }
      case 'command/rejected':
        return { state: 'rejected', ...action.payload };
      case 'command/unknown':
        return { state: 'unknown', ...action.payload };
    }
  };

  const settle = (
    action: CommandConfirmedAction | CommandRejectedAction | CommandUnknownAction,
  ) => {
    dispatch(action);
    const waiter = waiters.get(action.payload.commandId);
    if (waiter) {
      waiters.delete(action.payload.commandId);
      waiter(outcomeOf(action));
    }
    checkIdle();
  };

  /**
   * Applies a confirmation. Events that do not follow the confirmed version (the aggregate was
   * never read here, or changed elsewhere) are not folded onto a wrong base: the state at this
   * version is read once instead, from its own collection's history.
   */
  const settleConfirmed = async (action: CommandConfirmedAction) => {
    const { aggregateId, version, events, commandId } = action.payload;
    const gap = confirmAnswer(state().confirmed[aggregateId], action.payload) === undefined;
    settle(action);
    if (!gap) return;
    // The events name their aggregate; a replay without events, the command's type does.
    const aggregate =
      (events[0] && aggregateOfType(events[0].aggregateType)) ??
      aggregateOfCommand(state().commands[commandId]?.type ?? '');
    if (!aggregate) return;
    const answer = await api
      .getHistory(aggregate.collection, aggregateId, { version })
      .catch(() => undefined);
    if (answer)
      dispatch({
        type: 'view/loaded',
        payload: { id: aggregateId, version, view: visibleIn(aggregate, answer.state) },
      });
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = wake.filter((w) => w !== done);
        resolve();
      }
      wake.push(done);
    });
  const wakeAll = () => {
    const sleeping = wake;
    wake = [];
    for (const w of sleeping) w();
  };

  /** Storage is the truth for what is pending; entries still being written here are kept. */
  const restore = async () => {
    const entries = await storage.load();
    for (const e of entries) {
      durable.add(e.commandId);
      lastSeq = Math.max(lastSeq, e.seq);
    }
    const stored = new Set(entries.map((e) => e.commandId));
    const writing = state().outbox.filter(
      (e) => !durable.has(e.commandId) && !stored.has(e.commandId),
    );
    dispatch({ type: 'outbox/restored', payload: { entries: [...entries, ...writing] } });
    pump();
    checkIdle();
  };

  const confirm = async (entry: OutboxEntry, answer: CommandAnswer) => {
    const action: CommandConfirmedAction = {
      type: 'command/confirmed',
      payload: {
        commandId: entry.commandId,
        aggregateId: entry.aggregateId,
        version: answer.version,
        events: answer.events,
        ...(answer.view !== undefined && { view: answer.view }),
        replayed: answer.replayed,
      },
    };
    channel?.post({ kind: 'settled', action });
    await storage.remove(entry.commandId);
    durable.delete(entry.commandId);
    await settleConfirmed(action);
  };

  const reject = async (entry: OutboxEntry, error: ApiError) => {
    const action: CommandRejectedAction = {
      type: 'command/rejected',
      payload: {
        commandId: entry.commandId,
        aggregateId: entry.aggregateId,
        status: error.status,
        code: error.code,
        message: error.message,
        details: error.details,
        conflict:
          error.status === 409 &&
          error.code === 'VERSION_CONFLICT' &&
          entry.expectedVersion !== undefined,
      },
    };
    channel?.post({ kind: 'settled', action });
    await storage.remove(entry.commandId);
    durable.delete(entry.commandId);
    settle(action);
  };

  /**
   * Gives a command up (client/retry-policy.ts): it leaves the outbox as `unknown`, and the
   * aggregate's view is re-read so the screen shows what the server has, applied or not.
   */
  const giveUp = async (entry: OutboxEntry) => {
    const action: CommandUnknownAction = {
      type: 'command/unknown',
      payload: { commandId: entry.commandId, aggregateId: entry.aggregateId },
    };
    channel?.post({ kind: 'settled', action });
    await storage.remove(entry.commandId);
    durable.delete(entry.commandId);
    settle(action);
    const aggregate = aggregateOfCommand(entry.type);
    if (!aggregate) return;
    const view = await api.getView(aggregate.collection, entry.aggregateId).catch(() => undefined);
    if (view)
      dispatch({ type: 'view/loaded', payload: { id: view.id, version: view.version, view } });
  };

  /** One send of the head command of an aggregate, and what its answer means. */
  const attempt = async (entry: OutboxEntry) => {
    let answer: CommandAnswer;
    const firstSentAt = entry.firstSentAt ?? now();
    try {
      answer = await api.sendCommand({
        type: entry.type,
        aggregateId: entry.aggregateId,
        payload: entry.payload,
        commandId: entry.commandId,
        ...(entry.expectedVersion !== undefined && { expectedVersion: entry.expectedVersion }),
      });
    } catch (error) {
      const attempts = entry.attempts + 1;
      const decision = decideAfterFailure(
        { error, attempts, firstSentAt: Date.parse(firstSentAt), now: Date.parse(now()) },
        retryPolicy,
        random,
      );
      if (decision.kind === 'reject') return reject(entry, decision.error);
      // No answer means offline; a 5xx is an answer. Anything else (a signing hook that failed,
      // say) is retried like a network error, with backoff, and does not change the flag.
      if (error instanceof NetworkError || error instanceof ApiError) {
        dispatch({ type: 'connection/changed', payload: { online: error instanceof ApiError } });
      }
      if (decision.kind === 'give-up') return giveUp(entry);
      const updated = { ...entry, attempts, firstSentAt };
      await storage.put(updated);
      dispatch({
        type: 'command/retrying',
        payload: {
          commandId: entry.commandId,
          attempts,
          error: (error as Error).message,
          firstSentAt,
        },
      });
      await sleep(decision.delayMs);
      return;
    }
    await confirm(entry, answer);
  };

  const work = async (aggregateId: string) => {
    while (!stopped && sender) {
      const head = state().outbox.find((e) => e.aggregateId === aggregateId);
      if (!head || !durable.has(head.commandId)) return;
      await attempt(head);
    }
  };

  /** Starts a send loop for each aggregate with a sendable command and none running. */
  const pump = () => {
    if (!store || stopped || !sender) return;
    for (const entry of state().outbox) {
      if (workers.has(entry.aggregateId) || !durable.has(entry.commandId)) continue;
      const id = entry.aggregateId;
      const running = work(id)
        // A failing storage must not turn into a busy loop: wait before the next round.
        .catch(() => sleep(backoffDelay(1, backoff, random)))
        .finally(() => {
          workers.delete(id);
          // Something may have been queued for this aggregate while the loop was ending.
          if (state().outbox.some((e) => e.aggregateId === id && durable.has(e.commandId))) pump();
        });
      workers.set(id, running);
    }
  };

  const enqueue = (action: SendCommandAction): CommandPromise => {
    const { aggregateId, type, payload, expectedVersion } = action.payload;
    const entry: OutboxEntry = {
      commandId: newId(),
      seq: nextSeq(),
      aggregateId,
      type,
      payload,
      ...(expectedVersion !== undefined && { expectedVersion }),
      issuedAt: now(),
      attempts: 0,
    };
    const promise = new Promise<CommandOutcome>((resolve) => waiters.set(entry.commandId, resolve));
    // The view shows the command at once; it is sent only once its record is written.
    dispatch({ type: 'command/queued', payload: entry });
    void storage.put(entry).then(
      () => {
        durable.add(entry.commandId);
        channel?.post({ kind: 'changed' });
        pump();
      },
      (error: unknown) =>
        settle({
          type: 'command/rejected',
          payload: {
            commandId: entry.commandId,
            aggregateId,
            status: 0,
            code: 'INTERNAL',
            message: `The outbox could not store the command: ${String(error)}`,
            details: {},
            conflict: false,
          },
        }),
    );
    void start();
    return Object.assign(promise, { commandId: entry.commandId });
  };

  const onMessage = (message: {
    kind: string;
    action?: CommandConfirmedAction | CommandRejectedAction | CommandUnknownAction;
  }) => {
    if (stopped || !store) return;
    if (message.kind === 'changed') void restore();
    if (message.kind === 'settled' && message.action) {
      durable.delete(message.action.payload.commandId);
      if (message.action.type === 'command/confirmed') void settleConfirmed(message.action);
      else settle(message.action);
    }
  };

  const watchBrowser = () => {
    const events = globalThis as unknown as Partial<BrowserEvents>;
    const navigator = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    if (typeof events.addEventListener !== 'function' || typeof navigator?.onLine !== 'boolean') {
      return;
    }
    const online = () => {
      dispatch({ type: 'connection/changed', payload: { online: true } });
      wakeAll();
    };
    const offline = () => dispatch({ type: 'connection/changed', payload: { online: false } });
    events.addEventListener('online', online);
    events.addEventListener('offline', offline);
    cleanups.push(() => {
      events.removeEventListener!('online', online);
      events.removeEventListener!('offline', offline);
    });
    if (!navigator.onLine) offline();
  };

  const start = () =>
    (started ??= (async () => {
      if (!store) throw new Error('Add client.middleware to the store before start()');
      watchBrowser();
      if (channel) cleanups.push(channel.subscribe(onMessage));
      await restore();
      // The sender role may take long (another tab has it): do not hold start() for it.
      lock.acquire(stopping.signal).then(
        async (releaseLock) => {
          if (stopped) return releaseLock();
          release = releaseLock;
          sender = true;
          dispatch({ type: 'sender/changed', payload: { sending: true } });
          await restore();
        },
        () => undefined,
      );
    })());

  const middleware: Middleware<CommandDispatch> = (api) => {
    store = api as MiddlewareAPI<Dispatch, Root>;
    return (next) => (action) => (isSendCommand(action) ? enqueue(action) : next(action));
  };

  return {
    middleware,
    start,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      wakeAll();
      await Promise.all(workers.values());
      for (const cleanup of cleanups.splice(0)) cleanup();
      channel?.close();
      if (sender) {
        sender = false;
        store?.dispatch({ type: 'sender/changed', payload: { sending: false } });
      }
      release?.();
    },
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.add(resolve);
        checkIdle();
      }),
    async loadView<View extends DeploymentView>(
      collection: string,
      id: string,
      query: { readonly minVersion?: number } = {},
    ) {
      const view = await api.getView<View>(collection, id, query);
      dispatch(viewLoaded(view));
      return view;
    },
    retryNow: wakeAll,
  };
};
