/**
 * What the conformance tests share (test/integration/aggregate-conformance.test.ts for every
 * aggregate's scripts, client-conformance.test.ts for the order's random intents): both stacks
 * in one local runtime beside the test's own event table, a client store per stack, and the
 * comparisons of what each side serves.
 */
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import type { LocalRuntime } from '../../local/emulators/runtime';
import {
  clientReducer,
  createApiClient,
  createCommandClient,
  type CommandDispatch,
} from '../../client';
import { createTestTables, type TestTables } from './dynamo';
import { useLocalRuntime } from './runtime';

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
  const local = useLocalRuntime(tablePrefix);
  const setup = { current: undefined as unknown as ConformanceSetup };
  beforeAll(async () => {
    setup.current = { runtime: local.current, tables: await createTestTables() };
  });
  afterAll(() => setup.current?.tables.drop());
  return setup;
};

/** A client store on one stack, fed only by its command answers (no live socket). */
export const clientStoreFor = (baseUrl: string) => {
  const client = createCommandClient({ api: createApiClient({ baseUrl }), channel: null });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  const send: CommandDispatch = store.dispatch;
  return { client, store, send };
};

/** The view a GET serves: `null` for a deleted aggregate (404). */
export const getVisibleRow = async (url: string): Promise<unknown> => {
  const response = await fetch(url);
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
