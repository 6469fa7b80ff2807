/**
 * The local event source mapping on DynamoDB Local's real stream: the event shape Lambda
 * sends, partial-batch resume, bounded retries to the on-failure file, bisection, record age,
 * filter criteria, and the whole decoupled round trip (command -> event table -> stream -> projector -> query).
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  commandHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import {
  startStreamPoller,
  StreamPollerError,
  type StreamHandler,
  type StreamPoller,
  type StreamPollerOptions,
} from '../../local/emulators/stream-poller';
import { FilterPatternError } from '../../local/emulators/event-filter';
import { NOTIFIER_STREAM_FILTER } from '../../lambdas/core/push/push';
import { createTestTables, testEndpoint, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { documentClient } from '../../lambdas/handlers/document-client';
import { ENV } from '../../lambdas/handlers/environment';

let tables: TestTables;
const pollers: StreamPoller[] = [];
const FAST = { pollIntervalMs: 20 } as const;

beforeEach(async () => {
  tables = await createTestTables({ stream: true });
});
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  await tables.drop();
});

const poll = async (handler: StreamHandler, options: StreamPollerOptions = {}) => {
  const poller = await startStreamPoller({
    endpoint: testEndpoint(),
    streamArn: tables.eventStreamArn!,
    handler,
    ...FAST,
    ...options,
  });
  pollers.push(poller);
  return poller;
};

/** Puts plain items into the event table; the poller tests use a test handler, not the projector. */
const putItems = async (aggregateId: string, count: number, from = 1) => {
  for (let version = from; version < from + count; version++) {
    await tables.doc.send(
      new PutCommand({ TableName: tables.eventTable, Item: { aggregateId, version, payload: {} } }),
    );
  }
};

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const versionsOf = (event: DynamoDBStreamEvent) =>
  event.Records.map((r) => Number(r.dynamodb?.NewImage?.version?.N));

/** A handler that records what it receives and answers as `respond` says. */
const recorder = (
  respond: (event: DynamoDBStreamEvent, call: number) => ReturnType<StreamHandler> = async () => {},
) => {
  const calls: DynamoDBStreamEvent[] = [];
  const handler: StreamHandler = (event) => {
    calls.push(event);
    return respond(event, calls.length);
  };
  return { calls, handler, versions: () => calls.flatMap(versionsOf) };
};

const failureLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
    : [];

const failureFile = () => join(mkdtempSync(join(tmpdir(), 'poller-')), 'failed.jsonl');

test('delivers records in the exact shape of a Lambda DynamoDB stream event', async () => {
  const seen = recorder();
  await putItems('shape', 2);
  await poll(seen.handler);
  await until(() => seen.versions().length === 2);

  const record = seen.calls[0]!.Records[0]!;
  expect(record).toEqual<DynamoDBRecord>({
    eventID: expect.any(String),
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: expect.any(String),
    eventSourceARN: tables.eventStreamArn,
    dynamodb: {
      ApproximateCreationDateTime: expect.any(Number),
      Keys: { aggregateId: { S: 'shape' }, version: { N: '1' } },
      // An empty map stays a map (the Streams client alone would hand over `{}`).
      NewImage: { aggregateId: { S: 'shape' }, version: { N: '1' }, payload: { M: {} } },
      SequenceNumber: expect.stringMatching(/^\d+$/),
      SizeBytes: expect.any(Number),
      StreamViewType: 'NEW_IMAGE',
    },
  });
  // Seconds since the epoch, as Lambda sends it (not milliseconds, not a Date).
  const seconds = record.dynamodb!.ApproximateCreationDateTime!;
  expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(120);
  expect(seen.versions()).toEqual([1, 2]);
});

test('keeps the order of a shard and respects the batch size', async () => {
  const seen = recorder();
  await putItems('order', 25);
  const poller = await poll(seen.handler, { batchSize: 10 });
  await until(() => seen.versions().length === 25);
  expect(seen.versions()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  expect(Math.max(...seen.calls.map((c) => c.Records.length))).toBeLessThanOrEqual(10);
  expect(poller.stats()).toMatchObject({ delivered: 25, retries: 0, failedRecords: 0 });
});

test('resumes from the first record named in batchItemFailures', async () => {
  await putItems('partial', 5);
  const seen = recorder(async (event, call) => {
    if (call > 1) return { batchItemFailures: [] };
    // The first delivery fails at the third and fifth records: 1 and 2 are checkpointed.
    const ids = event.Records.map((r) => r.dynamodb!.SequenceNumber!);
    return { batchItemFailures: [{ itemIdentifier: ids[4]! }, { itemIdentifier: ids[2]! }] };
  });
  const poller = await poll(seen.handler);
  await until(() => poller.stats().delivered === 5);
  expect(seen.calls.map(versionsOf)).toEqual([
    [1, 2, 3, 4, 5],
    [3, 4, 5],
  ]);
  expect(poller.stats().retries).toBe(1);
});

test('an unknown itemIdentifier fails the whole batch, as in Lambda', async () => {
  await putItems('unknown-id', 3);
  const seen = recorder(async (_event, call) =>
    call === 1 ? { batchItemFailures: [{ itemIdentifier: 'no-such-record' }] } : undefined,
  );
  const poller = await poll(seen.handler);
  await until(() => poller.stats().delivered === 3);
  expect(seen.calls.map(versionsOf)).toEqual([
    [1, 2, 3],
    [1, 2, 3],
  ]);
});

test('bounded retries send a failing batch to the on-failure file and move on', async () => {
  const file = failureFile();
  await putItems('poison', 2);
  const seen = recorder(async (event) => {
    if (event.Records.some((r) => r.dynamodb?.NewImage?.aggregateId?.S === 'poison')) {
      throw new Error('projector is broken for this order');
    }
  });
  const poller = await poll(seen.handler, { maxRetries: 2, onFailureFile: file });
  await until(() => poller.stats().failedRecords === 2);
  // One first attempt plus two retries, then the records leave the shard...
  expect(seen.calls).toHaveLength(3);
  const [failure, ...rest] = failureLines(file);
  expect(rest).toEqual([]);
  // Lambda's invocation record for a DynamoDB stream (AWS Lambda guide, "Retaining discarded
  // records for a DynamoDB event source"), plus the error text and the records (local additions).
  const ids = seen.calls[0]!.Records.map((r) => r.dynamodb!.SequenceNumber);
  const secondsIso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
  expect(failure).toEqual({
    requestContext: {
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      functionArn: 'arn:aws:lambda:local:000000000000:function:projector',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: expect.any(String),
    DDBStreamBatchInfo: {
      shardId: expect.stringMatching(/^shardId-/),
      startSequenceNumber: ids[0],
      endSequenceNumber: ids[1],
      approximateArrivalOfFirstRecord: expect.stringMatching(secondsIso),
      approximateArrivalOfLastRecord: expect.stringMatching(secondsIso),
      batchSize: 2,
      streamArn: tables.eventStreamArn,
    },
    errorMessage: 'projector is broken for this order',
    records: expect.any(Array),
  });
  expect(failure!.records.map((r: DynamoDBRecord) => r.dynamodb?.Keys?.version?.N)).toEqual([
    '1',
    '2',
  ]);
  // ...and the shard is not blocked: later records are delivered.
  await putItems('healthy', 1);
  await until(() => poller.stats().delivered === 1);
  expect(seen.calls.at(-1)!.Records.map((r) => r.dynamodb?.Keys?.aggregateId?.S)).toEqual([
    'healthy',
  ]);
});

test('bisect on error isolates a poison record; the others are delivered', async () => {
  const file = failureFile();
  await putItems('bisect', 8);
  const poisonVersion = 6;
  const accepted: number[] = [];
  const seen = recorder(async (event) => {
    const versions = versionsOf(event);
    if (versions.includes(poisonVersion)) throw new Error('poison');
    accepted.push(...versions);
  });
  const poller = await poll(seen.handler, {
    bisectOnError: true,
    maxRetries: 1,
    onFailureFile: file,
  });
  await until(() => poller.stats().failedRecords === 1 && accepted.length === 7);
  expect(accepted).toEqual([1, 2, 3, 4, 5, 7, 8]);
  const failures = failureLines(file);
  expect(failures).toHaveLength(1);
  expect(failures[0]!.DDBStreamBatchInfo.batchSize).toBe(1);
  expect(failures[0]!.records[0].dynamodb.NewImage.version.N).toBe(String(poisonVersion));
});

test('without bisect, the poison record takes its whole batch to the on-failure file', async () => {
  const file = failureFile();
  await putItems('no-bisect', 4);
  const seen = recorder(async (event) => {
    if (versionsOf(event).includes(3)) throw new Error('poison');
  });
  const poller = await poll(seen.handler, { maxRetries: 0, onFailureFile: file });
  await until(() => poller.stats().failedRecords === 4);
  expect(seen.calls).toHaveLength(1);
  expect(failureLines(file)[0]!.DDBStreamBatchInfo.batchSize).toBe(4);
});

test('records older than maxRecordAgeSeconds go to the on-failure file undelivered', async () => {
  const file = failureFile();
  await putItems('old', 2);
  await new Promise((r) => setTimeout(r, 2100)); // stream timestamps have one-second resolution
  const seen = recorder();
  const poller = await poll(seen.handler, { maxRecordAgeSeconds: 1, onFailureFile: file });
  await until(() => poller.stats().failedRecords === 2);
  expect(seen.calls).toHaveLength(0);
  expect(failureLines(file)[0]!.requestContext.condition).toBe('RecordAgeExceeded');
});

test('a batching window gathers records into one invocation', async () => {
  const seen = recorder();
  const poller = await poll(seen.handler, { batchingWindowMs: 1500, pollIntervalMs: 50 });
  await new Promise((r) => setTimeout(r, 100));
  await putItems('window', 5);
  await until(() => poller.stats().delivered === 5);
  expect(seen.calls.map(versionsOf)).toEqual([[1, 2, 3, 4, 5]]);
});

test('a batch size above 1000 reads several GetRecords pages into one batch, without waiting', async () => {
  // GetRecords returns at most 1000 records; Lambda's batch size goes up to 10,000.
  const count = 2500;
  for (let from = 1; from <= count; from += 25) {
    const items = Array.from({ length: Math.min(25, count - from + 1) }, (_, i) => ({
      PutRequest: { Item: { aggregateId: `big-${from + i}`, version: 1, n: from + i } },
    }));
    await tables.doc.send(new BatchWriteCommand({ RequestItems: { [tables.eventTable]: items } }));
  }
  const seen = recorder();
  // A 60 s poll interval: only reading on at once after a full page fills the batch in time.
  const poller = await poll(seen.handler, { batchSize: 10_000, pollIntervalMs: 60_000 });
  await until(() => poller.stats().delivered === count);
  expect(seen.calls).toHaveLength(1);
  expect(seen.calls[0]!.Records.map((r) => Number(r.dynamodb?.NewImage?.n?.N))).toEqual(
    Array.from({ length: count }, (_, i) => i + 1),
  );
  expect(poller.stats().polls).toBeGreaterThanOrEqual(3);
});

test('with bisect, a partial batch response retries the remainder whole (it is not halved)', async () => {
  await putItems('bisect-partial', 8);
  const seen = recorder(async (event, call) => {
    if (call > 1) return undefined;
    return { batchItemFailures: [{ itemIdentifier: event.Records[3]!.dynamodb!.SequenceNumber! }] };
  });
  const poller = await poll(seen.handler, { bisectOnError: true });
  await until(() => poller.stats().delivered === 8);
  // Lambda "bisects the batch at the returned sequence number and retries only the remaining
  // records" (AWS Lambda guide, partial batch response with DynamoDB).
  expect(seen.calls.map(versionsOf)).toEqual([
    [1, 2, 3, 4, 5, 6, 7, 8],
    [4, 5, 6, 7, 8],
  ]);
  expect(poller.stats().retries).toBe(1);
});

test('records a partial batch response exhausts get the on-failure record of a successful invocation', async () => {
  const file = failureFile();
  await putItems('partial-exhausted', 8);
  const requestIds: string[] = [];
  const sequence: string[] = [];
  const handler: StreamHandler = async (event, context) => {
    requestIds.push(context.awsRequestId);
    const third = event.Records.find((r) => r.dynamodb?.NewImage?.version?.N === '3');
    if (sequence.length === 0)
      sequence.push(...event.Records.map((r) => r.dynamodb!.SequenceNumber!));
    return {
      batchItemFailures: third ? [{ itemIdentifier: third.dynamodb!.SequenceNumber! }] : [],
    };
  };
  const poller = await poll(handler, { maxRetries: 1, bisectOnError: true, onFailureFile: file });
  await until(() => poller.stats().failedRecords === 6);
  expect(poller.stats().delivered).toBe(2);
  const [failure] = failureLines(file);
  expect(failure).toMatchObject({
    requestContext: {
      requestId: requestIds[1],
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 2,
    },
    // The function answered: no functionError.
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    DDBStreamBatchInfo: {
      startSequenceNumber: sequence[2],
      endSequenceNumber: sequence[7],
      batchSize: 6,
    },
  });
  expect(failure!.responseContext).not.toHaveProperty('functionError');
  expect(requestIds).toHaveLength(2);
});

test('rejects invalid settings and an unknown stream with a clear error', async () => {
  await expect(poll(recorder().handler, { batchSize: 0, pollIntervalMs: -5 })).rejects.toThrow(
    /batchSize must be an integer from 1 to 10000.*pollIntervalMs|pollIntervalMs.*batchSize/,
  );
  await expect(
    poll(recorder().handler, { pollIntervalMs: 100, idlePollIntervalMs: 50 }),
  ).rejects.toThrow(/idlePollIntervalMs must be 0 or at least pollIntervalMs \(got 50 < 100\)/);
  await expect(
    startStreamPoller({
      endpoint: testEndpoint(),
      streamArn:
        'arn:aws:dynamodb:ddblocal:000000000000:table/missing/stream/2026-01-01T00:00:00.000',
      handler: recorder().handler,
    }),
  ).rejects.toThrow(StreamPollerError);
});

test('filter criteria: a record no pattern matches is discarded, never delivered, and the shard reads on past it', async () => {
  const seen = recorder();
  // Even versions carry pushedBy: the notifier's filter discards them.
  for (let version = 1; version <= 6; version++) {
    await tables.doc.send(
      new PutCommand({
        TableName: tables.eventTable,
        Item: { aggregateId: 'row', version, ...(version % 2 === 0 && { pushedBy: 'coupled' }) },
      }),
    );
  }
  const poller = await startStreamPoller({
    endpoint: testEndpoint(),
    streamArn: tables.eventStreamArn!,
    handler: seen.handler,
    filters: [NOTIFIER_STREAM_FILTER],
    ...FAST,
  });
  pollers.push(poller);
  await until(() => poller.stats().filtered === 3 && seen.versions().length === 3);
  await putItems('row', 1, 7);
  await until(() => seen.versions().length === 4);
  expect(seen.versions()).toEqual([1, 3, 5, 7]);
  expect(poller.stats()).toMatchObject({ delivered: 4, filtered: 3, failedRecords: 0 });
  // A pattern the emulation does not know is refused before anything is read.
  await expect(
    startStreamPoller({
      endpoint: testEndpoint(),
      streamArn: tables.eventStreamArn!,
      handler: seen.handler,
      filters: [{ eventName: [{ 'anything-but': 'REMOVE' }] }],
    }),
  ).rejects.toThrow(FilterPatternError);
});

test('an idle shard is polled every idlePollIntervalMs, and at once when this process writes to its table', async () => {
  const seen = recorder();
  // An idle interval longer than the test may take: only the write can wake the reader.
  const poller = await poll(seen.handler, { pollIntervalMs: 10, idlePollIntervalMs: 60_000 });
  await putItems('idle', 1);
  await until(() => seen.versions().length === 1);
  // A second after its last record the reader stops polling every 10 ms.
  await until(async () => {
    const polls = poller.stats().polls;
    await new Promise((r) => setTimeout(r, 300));
    return poller.stats().polls === polls;
  });
  // A write through a metered client (every handler's: documentClient) wakes it.
  const doc = documentClient({ [ENV.dynamoDbEndpoint]: testEndpoint() });
  try {
    await doc.send(
      new PutCommand({
        TableName: tables.eventTable,
        Item: { aggregateId: 'idle', version: 2, payload: {} },
      }),
    );
  } finally {
    doc.destroy();
  }
  await until(() => seen.versions().length === 2, 10_000);
  expect(seen.versions()).toEqual([1, 2]);
});

test('stop() ends polling: nothing is delivered afterwards', async () => {
  const seen = recorder();
  const poller = await poll(seen.handler);
  await poller.stop();
  await putItems('after-stop', 2);
  await new Promise((r) => setTimeout(r, 200));
  expect(seen.calls).toHaveLength(0);
});

test('the decoupled round trip: HTTP-shaped command -> event table -> stream -> projector -> query', async () => {
  const sendCommand = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  const query = queryHandlerFromEnv(tables.env, { logger: testLogger('query') });
  const projector = projectorHandlerFromEnv(tables.env, { logger: testLogger('projector') });
  const poller = await poll(projector);

  const id = `round-trip-${process.pid}`;
  const script = [
    { type: 'order/create', payload: { customerId: 'c-9', currency: 'EUR' } },
    { type: 'order/addLine', payload: { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 250 } },
    { type: 'order/addLine', payload: { lineId: 'b', sku: 'B', quantity: 1, unitPrice: 1000 } },
    { type: 'order/submit', payload: {} },
  ];
  let version = 0;
  for (const c of script) {
    const result = await sendCommand(command({ ...c, aggregateId: id }));
    expect(result.statusCode).toBe(202);
    version = bodyOf<{ version: number }>(result).version;
  }
  expect(version).toBe(4);

  const read = await query(
    httpEvent({
      routeKey: 'GET /{collection}/{id}',
      pathParameters: { collection: 'orders', id },
      query: { minVersion: String(version) },
    }),
  );
  expect(read.statusCode).toBe(200);
  expect(bodyOf(read)).toMatchObject({
    id,
    customerId: 'c-9',
    status: 'submitted',
    total: 1500,
    lineCount: 2,
    version: 4,
  });
  const listed = await query(
    httpEvent({
      routeKey: 'GET /{collection}',
      pathParameters: { collection: 'orders' },
      query: { customerId: 'c-9' },
    }),
  );
  expect(bodyOf<{ items: { id: string }[] }>(listed).items.map((o) => o.id)).toEqual([id]);
  expect(poller.stats()).toMatchObject({ retries: 0, failedRecords: 0 });
});
