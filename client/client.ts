/**
 * The command client: a Redux middleware with a persisted outbox. A dispatched command gets its
 * commandId at once, is written to the outbox before its first send, and is sent in order per
 * aggregate (one in flight per aggregate, aggregates in parallel) by the one client holding the
 * sender lock. No final answer (network, timeout, 5xx...) means: resend later with the same
 * commandId; the server's own 4xx is final: the command leaves the outbox and the view is
 * recomputed. The decisions are pure (client/send-policy.ts, client/retry-policy.ts); this file
 * does the I/O around them.
 *
 * Users: each entry records who queued it (the principal of the API client's token) and is sent
 * only with that user's token. The outbox in the state is the signed-in user's; another user's
 * entries stay in storage, unseen and unsent. A refused sign-in holds sending (nothing resent,
 * nothing dropped) until `signedIn()`; `signOut()` removes the user's entries and state.
 */
import type { Dispatch, Middleware, MiddlewareAPI, UnknownAction } from 'redux';
import {
  type ApiClient,
  type CommandAnswer,
  SignInRequiredError,
  UndecodableAnswerError,
} from './api';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { decideAfterFailure, DEFAULT_MAX_PENDING_MS, type RetryPolicy } from './retry-policy';
import {
  aggregatesToStart,
  type CommandOutcome,
  confirmationOf,
  entriesOfUser,
  mergeRestored,
  nextSeq,
  nextToSend,
  notStoredOf,
  onlineAfterFailure,
  outcomeOf,
  rejectionOf,
  requestOf,
  rereadAfterConfirmation,
  type SettledAction,
  unknownOf,
} from './send-policy';
import { indexedDbStorage, memoryStorage, type OutboxStorage } from './outbox';
import {
  type ClientAction,
  type ClientState,
  type CommandConfirmedAction,
  identityChanged,
  isSendCommand,
  type OutboxEntry,
  selectCommandStatus,
  type SendCommandAction,
  viewLoaded,
} from './state';
import {
  broadcastChannel,
  noLock,
  type SenderLock,
  type SyncChannel,
  type SyncMessage,
  webLock,
} from './tabs';
import { aggregateOfCommand, type DeploymentView, visibleIn } from './aggregates';

export type { CommandOutcome };

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
  /**
   * How many settled command statuses (confirmed, rejected, unknown) the state keeps, the most
   * recent; older ones are pruned (`selectCommandStatus` answers `undefined`), pending ones
   * never. Default 1,000 (`DEFAULT_KEEP_SETTLED_COMMANDS`).
   */
  readonly keepSettledCommands?: number;
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
  /**
   * The token provider answers for a new sign-in (the same user again, or another): reads who it
   * names, shows and sends that user's outbox (another user's state is dropped), and resumes
   * sending after a `signInRequired` hold.
   */
  signedIn(): Promise<void>;
  /**
   * Signs the current user out of this client: waits for the sends in flight, removes their
   * outbox entries from storage and everything of theirs from the state (other tabs of this
   * client forget them too). Their pending commands are never sent; their promises settle as
   * `unknown`. Sending then waits for `signedIn()`. Sign the token provider out as well.
   */
  signOut(): Promise<void>;
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

/** Backoff waits that one call ends at once (online again, retryNow, stop). */
const wakeableSleep = () => {
  let sleeping: Array<() => void> = [];
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          sleeping = sleeping.filter((w) => w !== done);
          resolve();
        }
        sleeping.push(done);
      }),
    wakeAll: () => {
      const woken = sleeping;
      sleeping = [];
      for (const w of woken) w();
    },
  };
};

/** Who waits for what: each dispatch for its command's outcome, `idle()` for an empty outbox. */
const createWaiters = () => {
  const byCommand = new Map<string, (outcome: CommandOutcome) => void>();
  const forIdle = new Set<() => void>();
  return {
    outcome: (commandId: string) =>
      new Promise<CommandOutcome>((resolve) => byCommand.set(commandId, resolve)),
    settled: (outcome: CommandOutcome) => {
      const waiter = byCommand.get(outcome.commandId);
      byCommand.delete(outcome.commandId);
      waiter?.(outcome);
    },
    idle: () => new Promise<void>((resolve) => forIdle.add(resolve)),
    nowIdle: () => {
      for (const resolve of forIdle) resolve();
      forIdle.clear();
    },
  };
};

/**
 * The middleware around the decisions of client/send-policy.ts and client/retry-policy.ts:
 * storage, the API, the lock, the channel and the timers.
 */
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
  const { keepSettledCommands } = options;
  if (
    keepSettledCommands !== undefined &&
    !(Number.isSafeInteger(keepSettledCommands) && keepSettledCommands >= 0)
  ) {
    throw new Error(`keepSettledCommands must be an integer >= 0, not ${keepSettledCommands}`);
  }

  /** This client's life: the store it serves, started, stopped, holding the sender role. */
  const run: {
    store?: MiddlewareAPI<Dispatch, Root>;
    started?: Promise<void>;
    stopped: boolean;
    sender: boolean;
    release?: () => void;
    /** The last `seq` given or read (client/send-policy.ts `nextSeq`). */
    lastSeq: number;
    /** Sending waits for a sign-in (a refused token, another user's command, signed out). */
    held: boolean;
    /** Who is signed in has been read (at start). */
    identity?: Promise<void>;
  } = { stopped: false, sender: false, lastSeq: 0, held: false };
  const stopping = new AbortController();
  /** Commands whose outbox record is written: only these may be sent. */
  const durable = new Set<string>();
  /** Aggregates with a send loop running. */
  const workers = new Map<string, Promise<void>>();
  const cleanups: Array<() => void> = [];
  const waiters = createWaiters();
  const { sleep, wakeAll } = wakeableSleep();

  const state = () => selectState(run.store!.getState());
  const dispatch = (action: ClientAction) =>
    run.store!.dispatch(action as unknown as UnknownAction);

  const checkIdle = () => {
    if (run.store && state().outbox.length === 0) waiters.nowIdle();
  };

  const settle = (action: SettledAction) => {
    dispatch(action);
    waiters.settled(outcomeOf(action));
    checkIdle();
  };

  /** A confirmation that does not follow what is known re-reads the aggregate at its version. */
  const settleConfirmed = async (action: CommandConfirmedAction) => {
    const { aggregateId, version, commandId } = action.payload;
    const known = state().confirmed[aggregateId];
    settle(action);
    const aggregate = rereadAfterConfirmation(
      known,
      action.payload,
      selectCommandStatus(state(), commandId)?.type,
    );
    if (!aggregate) return;
    const answer = await api
      .getHistory(aggregate.collection, aggregateId, { version })
      .catch(() => undefined);
    if (answer)
      dispatch({
        type: 'view/loaded',
        // At the command's own version: none of the commands still pending is in it.
        payload: {
          id: aggregateId,
          version,
          view: visibleIn(aggregate, answer.state),
          settledOnly: true,
        },
      });
  };

  /** A final answer, from this client's send or another tab's: no longer sendable, applied. */
  const applySettled = (action: SettledAction) => {
    durable.delete(action.payload.commandId);
    if (action.type === 'command/confirmed') return settleConfirmed(action);
    settle(action);
  };

  /** A final answer to this client's send: the other tabs are told, storage forgets it. */
  const finish = async (action: SettledAction) => {
    channel?.post({ kind: 'settled', action });
    await storage.remove(action.payload.commandId);
    await applySettled(action);
  };

  /**
   * Storage is the truth for what is pending (the signed-in user's entries); entries still being
   * written here are kept.
   */
  const restore = async () => {
    const stored = entriesOfUser(await storage.load(), state().principal?.subject);
    const entries = mergeRestored(stored, state().outbox, durable);
    for (const e of stored) {
      durable.add(e.commandId);
      run.lastSeq = Math.max(run.lastSeq, e.seq);
    }
    dispatch({ type: 'outbox/restored', payload: { entries } });
    pump();
    checkIdle();
  };

  /**
   * Gives a command up (client/retry-policy.ts): it leaves the outbox as `unknown`, and the
   * aggregate's view is re-read so the screen shows what the server has, applied or not.
   */
  const giveUp = async (entry: OutboxEntry) => {
    await finish(unknownOf(entry));
    const aggregate = aggregateOfCommand(entry.type);
    if (!aggregate) return;
    const view = await api.getView(aggregate.collection, entry.aggregateId).catch(() => undefined);
    // Read before the aggregate's next command is sent (this send loop waits for it).
    if (view)
      dispatch({
        type: 'view/loaded',
        payload: { id: view.id, version: view.version, view, settledOnly: true },
      });
  };

  /** A send without a final answer: rejected, given up, or resent after a wait. */
  const failed = async (entry: OutboxEntry, error: unknown, firstSentAt: string) => {
    const attempts = entry.attempts + 1;
    const decision = decideAfterFailure(
      { error, attempts, firstSentAt: Date.parse(firstSentAt), now: Date.parse(now()) },
      retryPolicy,
      random,
    );
    if (decision.kind === 'reject') return finish(rejectionOf(entry, decision.error));
    if (decision.kind === 'sign-in') return holdForSignIn(decision.error);
    const online = onlineAfterFailure(error);
    if (online !== undefined) dispatch({ type: 'connection/changed', payload: { online } });
    if (decision.kind === 'give-up') return giveUp(entry);
    await storage.put({ ...entry, attempts, firstSentAt });
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
  };

  /** Nothing is sent until the user signs in (again): `signedIn()` resumes. */
  const holdForSignIn = (error: SignInRequiredError) => {
    run.held = true;
    dispatch({
      type: 'identity/signInRequired',
      payload: { reason: error.reason, message: error.message },
    });
  };

  /** Who the API client's token names now (unverified), into the state. */
  const readIdentity = async () => {
    if (!api.principal) return;
    const principal = await api.principal().catch(() => undefined);
    dispatch(identityChanged(principal ?? null));
  };

  /** One send of the head command of an aggregate, and what its answer means. */
  const attempt = async (entry: OutboxEntry) => {
    const firstSentAt = entry.firstSentAt ?? now();
    let answer: CommandAnswer;
    try {
      answer = await api.sendCommand(requestOf(entry));
    } catch (error) {
      // A success from a newer server: settled as confirmed; the reducer, unable to fold its
      // events, marks the app outdated, and the aggregate is read from the server. Never resent.
      if (error instanceof UndecodableAnswerError)
        return finish(confirmationOf(entry, error.answer));
      return failed(entry, error, firstSentAt);
    }
    await finish(confirmationOf(entry, answer));
  };

  const work = async (aggregateId: string) => {
    while (!run.stopped && run.sender && !run.held) {
      const head = nextToSend(state().outbox, aggregateId, durable);
      if (!head) return;
      await attempt(head);
    }
  };

  /** Starts a send loop for each aggregate with a sendable command and none running. */
  const pump = () => {
    if (!run.store || run.stopped || !run.sender || run.held) return;
    for (const id of aggregatesToStart(state().outbox, durable, workers)) {
      const running = work(id)
        // A failing storage must not turn into a busy loop: wait before the next round.
        .catch(() => sleep(backoffDelay(1, backoff, random)))
        .finally(() => {
          workers.delete(id);
          // Something may have been queued for this aggregate while the loop was ending.
          if (aggregatesToStart(state().outbox, durable, workers).includes(id)) pump();
        });
      workers.set(id, running);
    }
  };

  const enqueue = (action: SendCommandAction): CommandPromise => {
    const { aggregateId, type, payload, expectedVersion } = action.payload;
    const entry: OutboxEntry = {
      commandId: newId(),
      seq: (run.lastSeq = nextSeq(run.lastSeq, Date.now())),
      aggregateId,
      type,
      payload,
      ...(expectedVersion !== undefined && { expectedVersion }),
      issuedAt: now(),
      attempts: 0,
      ...(state().principal && { user: state().principal!.subject }),
    };
    const promise = waiters.outcome(entry.commandId);
    // The view shows the command at once; it is sent only once its record is written.
    dispatch({ type: 'command/queued', payload: entry });
    void start();
    void ownedByUser(entry)
      .then((owned) => storage.put(owned))
      .then(
        () => {
          durable.add(entry.commandId);
          channel?.post({ kind: 'changed' });
          pump();
        },
        (error: unknown) => settle(notStoredOf(entry, error)),
      );
    return Object.assign(promise, { commandId: entry.commandId });
  };

  /**
   * The entry with the user who queued it. One dispatched before `start()` knew who is signed in
   * gets them once it does (before its record is written, so it is never stored without them).
   */
  const ownedByUser = async (entry: OutboxEntry): Promise<OutboxEntry> => {
    if (entry.user !== undefined) return entry;
    await run.identity;
    const user = state().principal?.subject;
    if (user === undefined) return entry;
    const owned = { ...entry, user };
    dispatch({ type: 'command/queued', payload: owned });
    return owned;
  };

  /**
   * Another tab queued (read storage again), settled a command (apply the same action), or
   * signed a user out (forget them here too).
   */
  const onMessage = (message: SyncMessage) => {
    if (run.stopped || !run.store) return;
    if (message.kind === 'changed') void restore();
    if (message.kind === 'settled') void applySettled(message.action);
    if (message.kind === 'signedOut' && message.user === state().principal?.subject) forget();
  };

  /** Nothing of the signed-in user stays in the state; nothing is sent until `signedIn()`. */
  const forget = () => {
    run.held = true;
    for (const entry of state().outbox) {
      durable.delete(entry.commandId);
      waiters.settled({
        state: 'unknown',
        commandId: entry.commandId,
        aggregateId: entry.aggregateId,
      });
    }
    dispatch({ type: 'identity/signedOut', payload: {} });
    checkIdle();
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
    (run.started ??= (async () => {
      if (!run.store) throw new Error('Add client.middleware to the store before start()');
      if (keepSettledCommands !== undefined)
        dispatch({ type: 'client/configured', payload: { keepSettledCommands } });
      watchBrowser();
      if (channel) cleanups.push(channel.subscribe(onMessage));
      // Who is signed in first: the outbox restored is theirs.
      await (run.identity = readIdentity());
      await restore();
      // The sender role may take long (another tab has it): do not hold start() for it.
      lock.acquire(stopping.signal).then(
        async (releaseLock) => {
          if (run.stopped) return releaseLock();
          run.release = releaseLock;
          run.sender = true;
          dispatch({ type: 'sender/changed', payload: { sending: true } });
          await restore();
        },
        () => undefined,
      );
    })());

  const middleware: Middleware<CommandDispatch> = (api) => {
    run.store = api as MiddlewareAPI<Dispatch, Root>;
    return (next) => (action) => (isSendCommand(action) ? enqueue(action) : next(action));
  };

  return {
    middleware,
    start,
    async stop() {
      if (run.stopped) return;
      run.stopped = true;
      stopping.abort();
      wakeAll();
      await Promise.all(workers.values());
      for (const cleanup of cleanups.splice(0)) cleanup();
      channel?.close();
      if (run.sender) {
        run.sender = false;
        run.store?.dispatch({ type: 'sender/changed', payload: { sending: false } });
      }
      run.release?.();
    },
    idle: () => {
      const idle = waiters.idle();
      checkIdle();
      return idle;
    },
    async loadView<View extends DeploymentView>(
      collection: string,
      id: string,
      query: { readonly minVersion?: number } = {},
    ) {
      try {
        const view = await api.getView<View>(collection, id, query);
        dispatch(viewLoaded(view));
        return view;
      } catch (error) {
        if (error instanceof SignInRequiredError) holdForSignIn(error);
        throw error;
      }
    },
    retryNow: wakeAll,
    async signedIn() {
      await readIdentity();
      run.held = false;
      if (run.started) await restore();
      wakeAll();
    },
    async signOut() {
      const user = state().principal?.subject;
      run.held = true;
      wakeAll();
      // The sends in flight finish (their answers settle as usual); no new one starts.
      await Promise.all(workers.values());
      const theirs = entriesOfUser(await storage.load(), user);
      for (const entry of theirs) await storage.remove(entry.commandId);
      forget();
      channel?.post({ kind: 'signedOut', user });
    },
  };
};
