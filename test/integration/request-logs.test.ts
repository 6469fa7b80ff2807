/**
 * One handler instance serving concurrent requests (as the local gateway does): every log line
 * of a request carries that request's correlation id, in every handler (code-review m11).
 */
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { createQueryApiHandler } from '../../lambdas/handlers/query-api';
import { createTestTables, type TestTables } from '../support/dynamo';
import { command, httpEvent } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

const N = 20;
const prefix = `lg-${process.pid}`;
const idOf = (i: number, kind: string) => `${prefix}-${kind}-${i}`;
const corr = (i: number, kind: string) => `corr-${kind}-${i}`;

/**
 * Every line that names an aggregate of `kind` carries the correlation id of its request, and
 * `message` is logged once per request (`where`: among the lines it also matches).
 */
const expectOwnIds = (
  lines: Record<string, unknown>[],
  kind: string,
  message: string,
  where: (line: Record<string, unknown>) => boolean = () => true,
) => {
  const ofKind = lines.filter(
    (l) => typeof l.aggregateId === 'string' && l.aggregateId.startsWith(`${prefix}-${kind}-`),
  );
  expect(ofKind.filter((l) => l.message === message && where(l))).toHaveLength(N);
  for (const line of ofKind) {
    const i = Number(String(line.aggregateId).split('-').at(-1));
    expect({ line: line.message, correlationId: line.correlationId }).toEqual({
      line: line.message,
      correlationId: corr(i, kind),
    });
  }
};

const create = (i: number, kind: string) =>
  command(
    {
      type: 'order/create',
      aggregateId: idOf(i, kind),
      // A customer each: concurrent batches never contend for one customer-summary row (a
      // batch that loses that race too often fails, and logs nothing, until Lambda retries it).
      payload: { customerId: `c-${kind}-${i}`, currency: 'EUR' },
    },
    { 'x-correlation-id': corr(i, kind) },
  );

test.each([
  ['command', 'Command accepted'],
  ['coupled', 'Command accepted'],
])('%s: 20 concurrent commands, each line with its own correlation id', async (kind, message) => {
  const logger = testLogger(kind);
  const handler =
    kind === 'command'
      ? commandHandlerFromEnv(tables.env, { logger })
      : coupledHandlerFromEnv(tables.env, { logger });
  const { result, lines } = await captureLogs(() =>
    Promise.all(Array.from({ length: N }, (_, i) => handler(create(i, kind)))),
  );
  expect(result.every((r) => r.statusCode < 300)).toBe(true);
  expectOwnIds(lines, kind, message);
});

test('query: 20 concurrent failing reads, each error line with its own correlation id', async () => {
  const logger = testLogger('query');
  // Every read is throttled, so every request logs one 'Request failed' line.
  const throttled = {
    send: () =>
      Promise.reject(new ThrottlingException({ $metadata: {}, message: 'Rate exceeded' })),
  } as unknown as DynamoDBDocumentClient;
  const query = createQueryApiHandler({
    logger,
    events: new DynamoDbEventStore(throttled, tables.eventTable),
    readModels: {
      projections: PROJECTIONS,
      rows: new DynamoDbProjectionRows(throttled, tables.projectionsTable),
    },
  });
  const { result, lines } = await captureLogs(() =>
    Promise.all(
      Array.from({ length: N }, (_, i) =>
        query(
          httpEvent({
            routeKey: 'GET /{collection}/{id}/events',
            pathParameters: { collection: 'orders', id: idOf(i, 'q') },
            headers: { 'x-correlation-id': corr(i, 'q') },
          }),
        ),
      ),
    ),
  );
  expect(result.map((r) => r.statusCode)).toEqual(Array(N).fill(503));
  const failed = lines.filter((l) => l.message === 'Request failed');
  expect(failed.map((l) => l.correlationId).sort()).toEqual(
    Array.from({ length: N }, (_, i) => corr(i, 'q')).sort(),
  );
});

test('the Lambda context of one invocation never shows on another’s lines', async () => {
  const logger = testLogger('command');
  const handler = commandHandlerFromEnv(tables.env, { logger });
  const context = (i: number) =>
    ({
      awsRequestId: `req-${i}`,
      functionName: 'f',
      functionVersion: '1',
      invokedFunctionArn: 'arn',
      memoryLimitInMB: '128',
      getRemainingTimeInMillis: () => 10_000,
    }) as never;
  const { lines } = await captureLogs(() =>
    Promise.all(Array.from({ length: N }, (_, i) => handler(create(i, 'ctx'), context(i)))),
  );
  const accepted = lines.filter((l) => l.message === 'Command accepted');
  expect(accepted).toHaveLength(N);
  for (const line of accepted) {
    const i = String(line.aggregateId).split('-').at(-1);
    expect([line.function_request_id, line.correlationId]).toEqual([`req-${i}`, `corr-ctx-${i}`]);
  }
});

test('projector: concurrent invocations, each per-event line with its command’s correlation id', async () => {
  const send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  await Promise.all(Array.from({ length: N }, (_, i) => send(create(i, 'p'))));
  const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  const logger = testLogger('projector');
  const project = projectorHandlerFromEnv(tables.env, { logger });
  const { lines } = await captureLogs(() =>
    Promise.all(
      Array.from({ length: N }, async (_, i) =>
        project(streamEvent((await store.load(idOf(i, 'p'))).map((e) => streamRecord(e)))),
      ),
    ),
  );
  // One line per event and row it is applied to: the order's view has one row per order.
  expectOwnIds(
    lines,
    'p',
    'Applied event to a declared read model',
    (l) => l.projection === 'order',
  );
});
