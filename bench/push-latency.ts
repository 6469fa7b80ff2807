/**
 * Push latency, as a user of the client library sees it: client A (a Node Redux store with the
 * command client) dispatches a command; client B (another store, following the order over the
 * stack's WebSocket with the live client) is timed until its store shows that version. And
 * fan-out: one writer, N subscribers of one order, time until the LAST subscriber has it.
 * Every store is signed in with the profile's token: its requests carry it, and its socket
 * connects with `?token=` (the `$connect` authorizer verifies it on every connect).
 */
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import WebSocket from 'ws';
import {
  type ClientState,
  clientReducer,
  createApiClient,
  createCommandClient,
  createLiveClient,
  memoryStorage,
  noLock,
  selectLiveConnected,
  sendCommand,
  subscribeTo,
} from '../client';
import { MAX_CONNECTIONS_PER_USER } from '../lambdas/core/push/push';
import type { BenchTokens, Followers } from './identity';
import type { HttpRunner } from './runners';
import type { BenchSettings } from './settings';
import { type Summary, summarize } from './stats';

export type PushSettings = BenchSettings['push'];

export interface PushFigures {
  /** A's dispatch -> B's store shows the version (one subscriber). */
  readonly latency: Summary | null;
  readonly samples: number;
  readonly errors: number;
  /**
   * The same rounds from the writer's side: A's dispatch -> A's store has the command confirmed
   * (`ack`), and -> the decoupled row holds the version (`visible`, the independent observer;
   * the coupled answer carries the row, so its visible is its ack). What push is compared with.
   */
  readonly writer?: { readonly ack: Summary | null; readonly visible: Summary | null };
  readonly fanout: {
    readonly subscribers: number;
    /** Per round: A's dispatch -> the last of the subscribers shows the version. */
    readonly last: Summary | null;
    /** Every subscriber of every round: dispatch -> that subscriber shows the version. */
    readonly each: Summary | null;
    readonly rounds: number;
    readonly errors: number;
  };
}

export const PUSH_METHOD =
  'client A (a Node Redux store with createCommandClient) dispatches order/addLine; client B (another store with createLiveClient over a ws WebSocket to the same stack, subscribed to the order) is timed from performance.now() at A’s dispatch until B’s store has that version confirmed: command, view item write, then POST @connections by the writer (coupled: the function after its commit, before its answer; decoupled: the projector after its row write, one stream poll after the command), the message, B’s reducer. The same rounds time A’s confirmation (ack) and, decoupled, the row holding the version (visible, the independent observer). Profiles take turns, the first rotating. Fan-out: one writer, N subscribers (each its own store and socket) of one order; per round the time until the last subscriber has the version.';

type Store = ReturnType<typeof makeStore>['store'];

const makeStore = (baseUrl: string, tokens: BenchTokens | undefined, websocketUrl?: string) => {
  const token = tokens?.provider;
  const api = createApiClient({ baseUrl, timeoutMs: 30_000, ...(token && { token }) });
  const commands = createCommandClient<{ client: ClientState }>({
    api,
    storage: memoryStorage(),
    lock: noLock(),
    channel: null,
  });
  const live = websocketUrl
    ? createLiveClient({
        url: websocketUrl,
        api,
        WebSocket,
        ...(token && { token }),
      })
    : undefined;
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(commands.middleware, ...(live ? [live.middleware] : [])),
  );
  const dispatch = store.dispatch as unknown as (
    action: ReturnType<typeof sendCommand>,
  ) => Promise<{ state: string; version?: number; message?: string }>;
  return {
    store,
    dispatch,
    async close() {
      live?.stop();
      await commands.stop();
    },
  };
};

const versionOf = (store: Store, id: string) => store.getState().client.confirmed[id]?.version ?? 0;

/** Resolves with performance.now() when `store` shows `version` of `id`; rejects after 30 s. */
const shownAt = (store: Store, id: string, version: number) =>
  new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`version ${version} not shown in 30 s`));
    }, 30_000);
    const check = () => {
      if (versionOf(store, id) >= version) {
        clearTimeout(timer);
        unsubscribe();
        resolve(performance.now());
      }
    };
    const unsubscribe = store.subscribe(check);
    check();
  });

/**
 * Set-up, not measured: 30 (once 50) sockets connecting and resyncing on a machine shared with other work
 * (the test suite runs the quick bench beside other suites) took over 30 s once; a live client
 * that fails to connect retries with backoff. The measured waits keep their own 30 s bound.
 */
const SETUP_TIMEOUT_MS = 120_000;

const waitFor = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + SETUP_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`push bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const line = (n: number) => ({ lineId: `l${n}`, sku: `SKU-${n % 7}`, quantity: 1, unitPrice: 990 });

/** The most subscribers `followers` can open sockets for (each user's connection limit). */
export const followerCapacity = (followers: Followers | undefined): number =>
  followers ? followers.users.length * MAX_CONNECTIONS_PER_USER : Infinity;

/**
 * One writer (the profile's admin) and `readers` subscribers of one new order on one profile,
 * the subscribers signed in as the followers' users in turn (at most
 * MAX_CONNECTIONS_PER_USER each).
 */
const group = async (
  profile: HttpRunner,
  websocketUrl: string,
  followers: Followers | undefined,
  orderId: string,
  readers: number,
) => {
  const baseUrl = profile.client.url('').href.replace(/\/+$/, '');
  const writer = makeStore(baseUrl, profile.client.tokens);
  const users = followers?.users ?? [profile.client.tokens];
  const subscribers = Array.from({ length: readers }, (_, i) =>
    makeStore(baseUrl, users[i % users.length], websocketUrl),
  );
  const created = await writer.dispatch(
    sendCommand({
      type: 'order/create',
      aggregateId: orderId,
      payload: { customerId: followers?.customerId ?? 'bench-push', currency: 'EUR' },
    }),
  );
  if (created.state !== 'confirmed') throw new Error(`push bench: create: ${created.message}`);
  for (const s of subscribers) s.store.dispatch(subscribeTo('orders', orderId));
  await waitFor(
    () =>
      subscribers.every(
        (s) => selectLiveConnected(s.store.getState().client) && versionOf(s.store, orderId) >= 1,
      ),
    'the subscribers to connect',
  );
  let next = 0;
  return {
    /** One command by the writer: ms until each subscriber shows it; the writer's own times. */
    async round(): Promise<{ shown: number[]; ackMs: number; visibleMs?: number }> {
      const version = versionOf(writer.store, orderId) + 1;
      const shown = subscribers.map((s) => shownAt(s.store, orderId, version));
      const observation =
        profile.kind === 'decoupled' ? profile.observer?.watch(orderId) : undefined;
      const started = performance.now();
      const outcome = await writer.dispatch(
        sendCommand({ type: 'order/addLine', aggregateId: orderId, payload: line(next++) }),
      );
      const ackMs = performance.now() - started;
      if (outcome.state !== 'confirmed') {
        // Settle the waiters quietly; the round counts as an error.
        void Promise.allSettled(shown);
        observation?.stop();
        throw new Error(outcome.message ?? 'rejected');
      }
      const [times, observedAt] = await Promise.all([
        Promise.all(shown),
        observation?.until(version),
      ]);
      return {
        shown: times.map((at) => at - started),
        ackMs,
        visibleMs: profile.kind === 'coupled' ? ackMs : observedAt && observedAt - started,
      };
    },
    close: () => Promise.all([writer, ...subscribers].map((s) => s.close())),
  };
};

export const runPushLatency = async (
  profiles: readonly HttpRunner[],
  websockets: Readonly<Record<string, string>>,
  settings: PushSettings,
  runId: string,
  onCommand: () => void = () => undefined,
  /** Who follows the orders on each profile (default: the profile's own token). */
  followers?: Readonly<Record<string, Followers>>,
): Promise<Record<string, PushFigures>> => {
  const withSocket = profiles.filter((p) => websockets[p.name]);
  const figures: Record<string, PushFigures> = {};
  const single = await Promise.all(
    withSocket.map(async (p) => ({
      profile: p,
      group: await group(p, websockets[p.name]!, followers?.[p.name], `${runId}-push-${p.tag}`, 1),
      samples: [] as number[],
      ack: [] as number[],
      visible: [] as number[],
      errors: 0,
    })),
  );
  try {
    const total = settings.warmup + settings.commands;
    for (let round = 0; round < total; round++) {
      const measured = round >= settings.warmup;
      for (let i = 0; i < single.length; i++) {
        const path = single[(i + round) % single.length]!;
        try {
          const { shown, ackMs, visibleMs } = await path.group.round();
          if (measured) {
            path.samples.push(shown[0]!);
            path.ack.push(ackMs);
            if (visibleMs !== undefined) path.visible.push(visibleMs);
          }
        } catch {
          if (measured) path.errors++;
        }
        if (measured) onCommand();
      }
    }
  } finally {
    await Promise.all(single.map((s) => s.group.close()));
  }

  // Fan-out: one profile at a time (N sockets each), rounds after one unrecorded.
  for (const path of single) {
    const { profile } = path;
    const following = followers?.[profile.name];
    const subscribers = Math.min(settings.fanout.subscribers, followerCapacity(following));
    const fan = await group(
      profile,
      websockets[profile.name]!,
      following,
      `${runId}-fan-${profile.tag}`,
      subscribers,
    );
    const last: number[] = [];
    const each: number[] = [];
    let errors = 0;
    try {
      for (let round = 0; round <= settings.fanout.rounds; round++) {
        try {
          const { shown: times } = await fan.round();
          if (round > 0) {
            last.push(Math.max(...times));
            each.push(...times);
          }
        } catch {
          if (round > 0) errors++;
        }
        if (round > 0) onCommand();
      }
    } finally {
      await fan.close();
    }
    figures[profile.name] = {
      latency: summarize(path.samples),
      samples: path.samples.length,
      errors: path.errors,
      writer: { ack: summarize(path.ack), visible: summarize(path.visible) },
      fanout: {
        subscribers,
        last: summarize(last),
        each: summarize(each),
        rounds: last.length,
        errors,
      },
    };
  }
  return figures;
};
