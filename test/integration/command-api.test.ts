/**
 * The decoupled command Lambda, through the handler AWS runs, on DynamoDB Local:
 * the error catalogue (each bad input gets its status and writes nothing), concurrency,
 * idempotency and correlation ids.
 */
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { createCommandApiHandler } from '../../lambdas/handlers/command-api';
import { commandHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';

let tables: TestTables;
let handle: ReturnType<typeof commandHandlerFromEnv>;
let store: DynamoDbEventStore;
const logger = testLogger('command');

beforeAll(async () => {
  tables = await createTestTables();
  // Generous deadline: these tests check retries end gapless, not the bound (command-deadline.test.ts).
  handle = commandHandlerFromEnv(tables.env, { logger, commandDeadlineMs: 60_000 });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
});
afterAll(() => tables.drop());

let n = 0;
const newOrderId = () => `order-${process.pid}-${n++}`;
const create = (aggregateId: string, extra: Record<string, unknown> = {}) =>
  handle(
    command({
      type: 'order/create',
      aggregateId,
      payload: { customerId: 'c-1', currency: 'EUR' },
      ...extra,
    }),
  );
const addLine = (aggregateId: string, lineId: string, extra: Record<string, unknown> = {}) =>
  handle(
    command({
      type: 'order/addLine',
      aggregateId,
      payload: { lineId, sku: `SKU-${lineId}`, quantity: 1, unitPrice: 100 },
      ...extra,
    }),
  );
const versions = async (id: string) => (await store.load(id)).map((e) => e.version);

test('a command is answered 202 with the new version and the stored events', async () => {
  const id = newOrderId();
  const result = await create(id);
  expect(result.statusCode).toBe(202);
  const body = bodyOf(result);
  expect(body).toMatchObject({ aggregateId: id, version: 1 });
  expect(body.events).toEqual(await store.load(id));
});

describe('error catalogue: each bad input gets its status and writes nothing', () => {
  let id: string;
  beforeEach(async () => {
    id = newOrderId();
    await create(id);
  });
  const expectError = async (
    request: ReturnType<typeof command>,
    status: number,
    code: string,
    details?: Record<string, unknown>,
  ) => {
    const before = await versions(id);
    const result = await handle(request);
    expect(result.statusCode).toBe(status);
    const body = bodyOf<{
      error: { code: string; message: string; details: Record<string, unknown> };
    }>(result);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    if (details) expect(body.error.details).toMatchObject(details);
    expect(await versions(id)).toEqual(before);
    return body.error;
  };
  const addLineBody = (payload: Record<string, unknown>) => ({
    type: 'order/addLine',
    aggregateId: id,
    payload,
  });

  test('415 when the body is not JSON', async () => {
    const request = command(addLineBody({ lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 }));
    await expectError(
      { ...request, headers: { 'content-type': 'text/plain' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError({ ...request, headers: {} }, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
  test('413 when the body is over 256 KB', async () => {
    const huge = addLineBody({
      lineId: 'a',
      sku: 'x'.repeat(300 * 1024),
      quantity: 1,
      unitPrice: 1,
    });
    await expectError(command(huge), 413, 'PAYLOAD_TOO_LARGE', { maxBytes: 262144 });
  });
  test('400 INVALID_JSON for a malformed body (also base64-encoded)', async () => {
    await expectError(
      httpEvent({ routeKey: 'POST /commands', rawBody: '{"type":' }),
      400,
      'INVALID_JSON',
    );
    const b64 = {
      ...httpEvent({
        routeKey: 'POST /commands',
        rawBody: Buffer.from('{oops').toString('base64'),
      }),
      isBase64Encoded: true,
    };
    await expectError(b64, 400, 'INVALID_JSON');
  });
  test('400 naming the field for an invalid envelope', async () => {
    const error = await expectError(
      command({ type: 'order/submit', aggregateId: 'bad id!' }),
      400,
      'VALIDATION_FAILED',
    );
    expect(error.details.issues).toEqual([expect.objectContaining({ path: 'body.aggregateId' })]);
    await expectError(command({ aggregateId: id }), 400, 'VALIDATION_FAILED', {
      issues: [expect.objectContaining({ path: 'body.type' })],
    });
    await expectError(
      command({ type: 'order/submit', aggregateId: id, expectedVersion: -1 }),
      400,
      'VALIDATION_FAILED',
      {
        issues: [expect.objectContaining({ path: 'body.expectedVersion' })],
      },
    );
    await expectError(
      command({ type: 'order/submit', aggregateId: 'x'.repeat(65) }),
      400,
      'VALIDATION_FAILED',
    );
    await expectError(
      command({ type: 'order/submit', aggregateId: id, extra: 1 }),
      400,
      'VALIDATION_FAILED',
    );
    await expectError(
      command({ type: 'order/submit', aggregateId: id, payload: [] }),
      400,
      'VALIDATION_FAILED',
    );
  });
  test('400 naming the payload field for an invalid payload', async () => {
    const error = await expectError(
      command(addLineBody({ lineId: 'a', sku: 's', quantity: 0, unitPrice: -5 })),
      400,
      'VALIDATION_FAILED',
    );
    expect(error.details.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'payload.quantity' }),
        expect.objectContaining({ path: 'payload.unitPrice' }),
      ]),
    );
  });
  test('400 for an unknown command type', () =>
    expectError(command({ type: 'order/explode', aggregateId: id }), 400, 'UNKNOWN_COMMAND_TYPE'));
  test('400 for a malformed x-correlation-id', () =>
    expectError(
      command(
        { type: 'order/submit', aggregateId: id },
        { 'x-correlation-id': 'bad id with spaces' },
      ),
      400,
      'VALIDATION_FAILED',
    ));
  test('404 for a command on an unknown order', async () => {
    const unknown = newOrderId();
    const result = await handle(command({ type: 'order/submit', aggregateId: unknown }));
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(await versions(unknown)).toEqual([]);
  });
  test('409 for create on an existing order', () =>
    expectError(
      command({
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c', currency: 'EUR' },
      }),
      409,
      'ALREADY_EXISTS',
    ));
  test('409 with expected and actual version for a stale expectedVersion', () =>
    expectError(
      command({ type: 'order/cancel', aggregateId: id, expectedVersion: 0 }),
      409,
      'VERSION_CONFLICT',
      {
        expectedVersion: 0,
        actualVersion: 1,
      },
    ));
  test('422 naming the rule', () =>
    expectError(command({ type: 'order/submit', aggregateId: id }), 422, 'RULE_VIOLATED', {
      rule: 'ORDER_EMPTY',
    }));
  test('500 leaks no internals', async () => {
    const failing = createCommandApiHandler({
      logger,
      runCommand: () =>
        Promise.reject(new Error('secret: table arn:aws:dynamodb:eu-west-1:123:table/x')),
    });
    const { result } = await captureLogs(() =>
      failing(command({ type: 'order/submit', aggregateId: id })),
    );
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/secret|arn:|table/);
    expect(bodyOf(result)).toEqual({
      error: { code: 'INTERNAL', message: 'Internal server error', details: {} },
    });
  });
});

describe('concurrency on one order', () => {
  test('50 concurrent commands with the same expectedVersion: one 202, 49 x 409, versions gapless', async () => {
    const id = newOrderId();
    await create(id);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => addLine(id, `line-${i}`, { expectedVersion: 1 })),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((r) => r.statusCode === 409)) {
      expect(bodyOf(r)).toMatchObject({
        error: { code: 'VERSION_CONFLICT', details: { expectedVersion: 1 } },
      });
    }
    expect(await versions(id)).toEqual([1, 2]);
  });

  test('50 concurrent commands without expectedVersion: all succeed, versions 1..51 gapless', async () => {
    const id = newOrderId();
    await create(id);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => addLine(id, `line-${i}`)),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(202));
    const answered = results
      .map((r) => bodyOf<{ version: number }>(r).version)
      .sort((a, b) => a - b);
    expect(answered).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(await versions(id)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    // Commands to one order take turns in the process, so none lost a race, and each answer
    // says so (x-command-retries; docs/decisions/hot-aggregates-take-turns.md).
    const retries = results.map((r) => r.headers?.['x-command-retries']);
    expect(retries).toEqual(Array(50).fill('0'));
  });
});

describe('idempotency by commandId', () => {
  test('sent twice, one after the other: appended once, the same answer twice', async () => {
    const id = newOrderId();
    await create(id);
    const first = await addLine(id, 'a', { commandId: 'cmd-seq' });
    const second = await addLine(id, 'a', { commandId: 'cmd-seq' });
    expect(second.statusCode).toBe(202);
    expect(bodyOf(second)).toEqual(bodyOf(first));
    expect(first.headers?.['x-command-replayed']).toBe('false');
    expect(second.headers?.['x-command-replayed']).toBe('true');
    expect(await versions(id)).toEqual([1, 2]);
  });

  test('sent at the same time (with and without expectedVersion): appended once, the same answer', async () => {
    const id = newOrderId();
    await create(id);
    const both = await Promise.all([
      addLine(id, 'a', { commandId: 'cmd-par' }),
      addLine(id, 'a', { commandId: 'cmd-par' }),
      addLine(id, 'a', { commandId: 'cmd-par' }),
    ]);
    expect(both.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    for (const r of both) expect(bodyOf(r)).toEqual(bodyOf(both[0]!));
    const withVersion = await Promise.all([
      addLine(id, 'b', { commandId: 'cmd-ver', expectedVersion: 2 }),
      addLine(id, 'b', { commandId: 'cmd-ver', expectedVersion: 2 }),
    ]);
    expect(withVersion.map((r) => r.statusCode)).toEqual([202, 202]);
    expect(bodyOf(withVersion[0]!)).toEqual(bodyOf(withVersion[1]!));
    expect(await versions(id)).toEqual([1, 2, 3]);
  });

  test('the same commandId with a different body: 409 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const id = newOrderId();
    await create(id);
    await addLine(id, 'a', { commandId: 'cmd-x' });
    const reused = await addLine(id, 'b', { commandId: 'cmd-x' });
    expect(reused.statusCode).toBe(409);
    expect(bodyOf(reused)).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(await versions(id)).toEqual([1, 2]);
  });
});

test('the correlation id is echoed, stored on the events and on every log line of the command', async () => {
  const id = newOrderId();
  const { result, lines } = await captureLogs(() =>
    create(id, {}).then(() =>
      handle(
        command(
          {
            type: 'order/addLine',
            aggregateId: id,
            payload: { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 },
          },
          { 'x-correlation-id': 'corr-123' },
        ),
      ),
    ),
  );
  expect(result.headers?.['x-correlation-id']).toBe('corr-123');
  const [, added] = await store.load(id);
  expect(added).toMatchObject({ correlationId: 'corr-123' });
  const ofAddLine = lines.filter((l) => l.aggregateId === id && l.version === 2);
  expect(ofAddLine.length).toBeGreaterThan(0);
  for (const line of ofAddLine) expect(line.correlationId).toBe('corr-123');
  // a new id is made when none is sent
  const created = await create(newOrderId());
  expect(created.headers?.['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
});
