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
      poller: { pollIntervalMs: 10 },
      handlerLogLevel: 'SILENT',
      quiet: true,
      log: () => undefined,
      ...options,
    });
  });
  afterAll(() => runtime.current?.stop());
  return runtime;
};
