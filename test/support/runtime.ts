/**
 * Both stacks of `npm start`'s runtime for a test file, on the test's DynamoDB Local and free
 * ports, quiet: started before the file's tests and stopped after them. Call at the top level
 * of a test file; read `.current` inside tests.
 */
import {
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../../local/emulators/runtime';
import { testEndpoint } from './dynamo';

/**
 * The tests' event source mappings: a 10 ms poll, and Lambda's 250 ms once a shard has been idle
 * for a second (woken at once by the runtime's own writes). An idle 10 ms poller burns about a
 * core between Node and DynamoDB Local, which two test files at once would take from the rest.
 */
export const TEST_POLLER = { pollIntervalMs: 10, idlePollIntervalMs: 250 } as const;

export const useLocalRuntime = (
  tablePrefix: string,
  options: Partial<LocalRuntimeOptions> = {},
): { current: LocalRuntime } => {
  const runtime = { current: undefined as unknown as LocalRuntime };
  beforeAll(async () => {
    runtime.current = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix,
      handlerLogLevel: 'SILENT',
      quiet: true,
      log: () => undefined,
      ...options,
      poller: { ...TEST_POLLER, ...options.poller },
    });
  });
  afterAll(() => runtime.current?.stop());
  return runtime;
};

/**
 * The Authorization header of a dev user's token (default `admin`, refused nothing: tests that
 * are not about permissions), as every route of the local gateways requires.
 */
export const authHeaders = (
  runtime: Pick<LocalRuntime, 'identity'>,
  user: 'alice' | 'bob' | 'support' | 'admin' = 'admin',
): Record<string, string> => ({ authorization: `Bearer ${runtime.identity.tokenFor(user)}` });

/** A WebSocket URL with a dev user's token in `?token=` (the `$connect` authorizer's source). */
export const withToken = (
  runtime: Pick<LocalRuntime, 'identity'>,
  url: string,
  user: 'alice' | 'bob' | 'support' | 'admin' = 'admin',
): string =>
  `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(runtime.identity.tokenFor(user))}`;
