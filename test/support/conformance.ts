/**
 * What the conformance tests share (test/integration/aggregate-conformance.test.ts for every
 * aggregate's scripts, client-conformance.test.ts for the order's random intents): both stacks
 * in one local runtime beside the test's own event table, a client store per stack, and the
 * comparisons of what each side serves.
 */
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import type { Principal } from '../../lambdas/core/identity/principal';
import type { LocalRuntime } from '../../local/emulators/runtime';
import {
  clientReducer,
  createApiClient,
  createCommandClient,
  type CommandDispatch,
  type TokenProvider,
} from '../../client';
import { createTestTables, type TestTables } from './dynamo';
import { useLocalRuntime } from './runtime';

/**
 * Who runs every command on each side: the dev admin (refused nothing), the clients and GETs
 * with its token, the runner and the predictions with it as the actor, so every event and
 * every row records the same `actor` and owner.
 */
export const CONFORMANCE_ACTOR: Principal = { subject: 'admin', roles: ['admin'] };

export interface ConformanceSetup {
  readonly runtime: LocalRuntime;
  /** The command runner's own event table (the in-process side of the comparison). */
  readonly tables: TestTables;
}

/**
 * Starts both stacks (projector polled every 10 ms) and the runner's tables before the file's
 * tests, and drops them after: call at the top level of a test file.
 */
export const useConformanceRuntime = (tablePrefix: string): { current: ConformanceSetup } => {
  // No process manager: a script's versions are its own commands' (a workflow would add events).
  const local = useLocalRuntime(tablePrefix, { workflows: { enabled: false } });
  const setup = { current: undefined as unknown as ConformanceSetup };
  beforeAll(async () => {
    setup.current = { runtime: local.current, tables: await createTestTables() };
  });
  afterAll(() => setup.current?.tables.drop());
  return setup;
};

/** A client store on one stack, fed only by its command answers (no live socket). */
export const clientStoreFor = (baseUrl: string, token: TokenProvider) => {
  const client = createCommandClient({ api: createApiClient({ baseUrl, token }), channel: null });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  const send: CommandDispatch = store.dispatch;
  return { client, store, send };
};

/** The view a GET serves with these (authorization) headers: `null` for a deleted aggregate (404). */
export const getVisibleRow = async (
  url: string,
  headers: Record<string, string>,
): Promise<unknown> => {
  const response = await fetch(url, { headers });
  if (response.status === 404) return null;
  expect({ url, status: response.status }).toEqual({ url, status: 200 });
  return response.json();
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The value with every ISO time replaced: each server stamps its own clock. */
export const withoutTimes = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value) ?? 'null', (_key, v: unknown) =>
    typeof v === 'string' && ISO_TIME.test(v) ? '<time>' : v,
  );
