/**
 * Client-visible latency: a command dispatched in a Node Redux store that uses the client
 * library (client/), until that store's confirmed state shows the new version; and, in the
 * same rounds, a bare `fetch` of the same command (POST, answer read). Their difference is the
 * client's own cost (outbox write, middleware, folding the answer, store updates). One client,
 * sequential commands, profiles interleaved with the first rotating, like the other sweeps.
 */
import { randomUUID } from 'node:crypto';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import {
  type ClientState,
  clientReducer,
  createApiClient,
  createCommandClient,
  memoryStorage,
  noLock,
  sendCommand,
} from '../client';
import type { BenchTokens } from './identity';
import type { BenchSettings } from './settings';
import type { Summary } from './stats';
import { summarize } from './stats';
import type { HttpRunner } from './runners';

export type ClientLatencySettings = BenchSettings['clientLatency'];

export interface ClientLatencyFigures {
  readonly samples: number;
  readonly errors: number;
  /** dispatch -> the store's confirmed state has the new version. */
  readonly client: Summary | null;
  /** A bare fetch of the same command: sent -> answer read. */
  readonly fetch: Summary | null;
  /** p50(client) - p50(fetch), ms: what the client library adds. */
  readonly overheadP50Ms: number | null;
}

export const CLIENT_LATENCY_METHOD =
  'one Node Redux store per profile with the client library (createCommandClient, in-memory outbox): performance.now() at dispatch(sendCommand(order/addLine)) -> the store’s confirmed state shows the new version (the answer folded by the shared reducer; no re-query). Beside it, in the same rounds, a bare fetch of the same command (POST /commands with a commandId, answer read). Overhead = p50(client) - p50(fetch).';

interface Path {
  /** Sends one addLine on this path's order; resolves with ms, or throws. */
  send(lineNo: number): Promise<number>;
  close(): Promise<void>;
}

const line = (lineNo: number) => ({
  lineId: `l${lineNo}`,
  sku: `SKU-${lineNo % 7}`,
  quantity: 1 + (lineNo % 5),
  unitPrice: 1250,
});

/** The client library in a Node Redux store, on its own order. */
const clientPath = async (
  baseUrl: string,
  tokens: BenchTokens | undefined,
  orderId: string,
): Promise<Path> => {
  // Signed in as an app is: the client asks its token provider before every request.
  const api = createApiClient({
    baseUrl,
    timeoutMs: 30_000,
    ...(tokens && { token: tokens.provider }),
  });
  const client = createCommandClient<{ client: ClientState }>({
    api,
    storage: memoryStorage(),
    lock: noLock(),
    channel: null,
  });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  await client.start();
  const dispatch = store.dispatch as unknown as (
    action: ReturnType<typeof sendCommand>,
  ) => Promise<{ state: string; message?: string }>;
  /** Resolves when the confirmed state of the order reaches `version`. */
  const confirmedAt = (version: number) =>
    new Promise<number>((resolve) => {
      const check = () => {
        if ((store.getState().client.confirmed[orderId]?.version ?? 0) >= version) {
          unsubscribe();
          resolve(performance.now());
        }
      };
      const unsubscribe = store.subscribe(check);
    });
  const version = () => store.getState().client.confirmed[orderId]?.version ?? 0;

  const created = await dispatch(
    sendCommand({
      type: 'order/create',
      aggregateId: orderId,
      payload: { customerId: 'bench-client', currency: 'EUR' },
    }),
  );
  if (created.state !== 'confirmed') throw new Error(`client: create failed: ${created.message}`);
  return {
    async send(lineNo) {
      const target = version() + 1;
      const shown = confirmedAt(target);
      const started = performance.now();
      const outcome = dispatch(
        sendCommand({ type: 'order/addLine', aggregateId: orderId, payload: line(lineNo) }),
      );
      const result = await Promise.race([shown.then((at) => ({ at })), outcome]);
      if ('at' in result) return result.at - started;
      if (result.state !== 'confirmed') throw new Error(result.message ?? 'rejected');
      return (await shown) - started;
    },
    close: () => client.stop(),
  };
};

/** The same command with nothing but fetch. */
const fetchPath = async (
  baseUrl: string,
  tokens: BenchTokens | undefined,
  orderId: string,
): Promise<Path> => {
  const post = async (command: { type: string; payload: unknown }) => {
    const url = new URL(`${baseUrl}/commands`);
    const body = JSON.stringify({ ...command, aggregateId: orderId, commandId: randomUUID() });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (tokens) headers.authorization = `Bearer ${await tokens.current()}`;
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.text();
    const ms = performance.now() - started;
    if (response.status >= 300) throw new Error(`HTTP ${response.status}`);
    return ms;
  };
  await post({ type: 'order/create', payload: { customerId: 'bench-fetch', currency: 'EUR' } });
  return {
    send: (lineNo) => post({ type: 'order/addLine', payload: line(lineNo) }),
    close: async () => undefined,
  };
};

/** Runs the sweep over the profiles; figures by profile name. */
export const runClientLatency = async (
  profiles: readonly HttpRunner[],
  settings: ClientLatencySettings,
  runId: string,
  onCommand: () => void = () => undefined,
): Promise<Record<string, ClientLatencyFigures>> => {
  const paths = await Promise.all(
    profiles.map(async (profile) => {
      const baseUrl = profile.client.url('').href.replace(/\/+$/, '');
      const tokens = profile.client.tokens;
      return {
        name: profile.name,
        client: await clientPath(baseUrl, tokens, `${runId}-cl-${profile.tag}-c`),
        fetch: await fetchPath(baseUrl, tokens, `${runId}-cl-${profile.tag}-f`),
        clientMs: [] as number[],
        fetchMs: [] as number[],
        errors: 0,
      };
    }),
  );
  try {
    const total = settings.warmup + settings.commands;
    for (let round = 0; round < total; round++) {
      const measured = round >= settings.warmup;
      // Rotate who goes first, and within a profile which path goes first.
      const order = paths.map((_, i) => paths[(i + round) % paths.length]!);
      for (const path of order) {
        const steps =
          round % 2 === 0 ? (['client', 'fetch'] as const) : (['fetch', 'client'] as const);
        for (const step of steps) {
          try {
            const ms = await path[step].send(round);
            if (measured) (step === 'client' ? path.clientMs : path.fetchMs).push(ms);
          } catch {
            if (measured) path.errors++;
          }
          if (measured) onCommand();
        }
      }
    }
  } finally {
    for (const path of paths) await Promise.all([path.client.close(), path.fetch.close()]);
  }
  return Object.fromEntries(
    paths.map((path) => {
      const client = summarize(path.clientMs);
      const fetched = summarize(path.fetchMs);
      return [
        path.name,
        {
          samples: path.clientMs.length,
          errors: path.errors,
          client,
          fetch: fetched,
          overheadP50Ms:
            client && fetched ? Math.round((client.p50 - fetched.p50) * 1000) / 1000 : null,
        },
      ];
    }),
  );
};
