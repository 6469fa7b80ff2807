/**
 * The redrive function (AWS) on DynamoDB Local, through the handler the cloud runs: a
 * dead-letter message as Lambda writes it (stream coordinates only) is read back from the real
 * stream and its aggregates re-projected; what cannot be resolved or repaired stays in the queue.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { SQSEvent } from 'aws-lambda';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { toAction } from '../../lambdas/core/events/events';
import { foldRows, storageName, storedKey } from '../../lambdas/core/projections/row-projection';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { createRedriveHandler, UNREPAIRABLE } from '../../lambdas/handlers/redrive';
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  redriveHandlerFromEnv,
  reprojectorFromEnv,
} from '../../lambdas/handlers/wiring';
import { createTestTables, testEndpoint, type TestTables } from '../support/dynamo';
import { command } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';
import { storedRows } from '../support/projection-rows';

let tables: TestTables;
let redrive: ReturnType<typeof redriveHandlerFromEnv>;
const streams = new DynamoDBStreamsClient({
  endpoint: testEndpoint(),
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

beforeAll(async () => {
  tables = await createTestTables({ stream: true });
  redrive = redriveHandlerFromEnv(tables.env, { logger: testLogger('redrive') });
});
afterAll(async () => {
  streams.destroy();
  await tables.drop();
});

const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `message-${i}`,
    receiptHandle: `receipt-${i}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'lambda',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:dlq',
    awsRegion: 'local',
  })),
});

/** Every record of the test table's stream (one shard on DynamoDB Local). */
const streamRecords = async () => {
  const { StreamDescription } = await streams.send(
    new DescribeStreamCommand({ StreamArn: tables.eventStreamArn! }),
  );
  const shardId = StreamDescription!.Shards![0]!.ShardId!;
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: tables.eventStreamArn!,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
  return { shardId, records: Records };
};

/** The order's stored view row (`order@v1#<id>`: view, checkpoint, revision). */
const storedOrder = (id: string) =>
  new DynamoDbProjectionRows(tables.doc, tables.projectionsTable).get(
    storedKey(orderViewProjection, id),
  );

const rowOf = async (id: string) => (await storedOrder(id))?.view as OrderView | undefined;

test("a dead-letter message (Lambda's stream coordinates) is read back from the stream and repaired", async () => {
  const send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  const ids = ['dlq-a', 'dlq-b', 'dlq-c'];
  for (const aggregateId of ids) {
    await send(
      command({ type: 'order/create', aggregateId, payload: { customerId: 'c', currency: 'EUR' } }),
    );
    await send(
      command({
        type: 'order/addLine',
        aggregateId,
        payload: { lineId: 'l', sku: 'S', quantity: 1, unitPrice: 3 },
      }),
    );
  }
  // No projector ran: the rows are missing, as after a batch that failed for good.
  const { shardId, records } = await streamRecords();
  // The failed batch: the records of dlq-a and dlq-b only (dlq-c's come after its end).
  const batch = records.filter((r) =>
    ['dlq-a', 'dlq-b'].includes(r.dynamodb!.Keys!.aggregateId!.S!),
  );
  const message = {
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: batch[0]!.dynamodb!.SequenceNumber,
      endSequenceNumber: batch.at(-1)!.dynamodb!.SequenceNumber,
      batchSize: batch.length,
      streamArn: tables.eventStreamArn,
    },
  };
  const result = await redrive(sqsEvent(message));
  expect(result.batchItemFailures).toEqual([]);
  const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  for (const id of ['dlq-a', 'dlq-b']) {
    const log = (await store.load(id)).map(toAction);
    expect(await rowOf(id)).toEqual(foldRows(orderViewProjection, [log]).get(id));
  }
  // Outside the batch's range: untouched.
  expect(await rowOf('dlq-c')).toBeUndefined();

  // An operator's message by ids works the same way; a rerun changes nothing.
  expect((await redrive(sqsEvent({ aggregateIds: ['dlq-c', 'dlq-a'] }))).batchItemFailures).toEqual(
    [],
  );
  expect((await rowOf('dlq-c'))?.version).toBe(2);
});

test('what cannot be resolved stays in the queue (batchItemFailures), the rest is deleted', async () => {
  const batch = (shardId: string, start: string, end: string) => ({
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: start,
      endSequenceNumber: end,
      batchSize: 2,
      streamArn: tables.eventStreamArn,
    },
  });
  const { result, lines } = await captureLogs(() =>
    redrive(
      sqsEvent(
        'not json',
        // A shard the stream does not have (trimmed away, or another stream's).
        batch(
          'shardId-00000000000000000000-00000000',
          '1'.padStart(21, '0'),
          '2'.padStart(21, '0'),
        ),
        // Coordinates the Streams API refuses: an error of this message only.
        batch('shardId-x', '1', '2'),
        { aggregateIds: ['nobody'] },
      ),
    ),
  );
  expect(result.batchItemFailures).toEqual([
    { itemIdentifier: 'message-0' },
    { itemIdentifier: 'message-1' },
    { itemIdentifier: 'message-2' },
  ]);
  // Only the batch the stream cannot give back is marked unrepairable (the metric filter's
  // match), with its coordinates and what to do instead; the others may heal on a retry.
  const unrepairable = lines.filter((l) => l[UNREPAIRABLE.field] === UNREPAIRABLE.value);
  expect(unrepairable).toEqual([
    expect.objectContaining({
      level: 'ERROR',
      messageId: 'message-1',
      unavailable: 'gone',
      shardId: 'shardId-00000000000000000000-00000000',
      advice: expect.stringContaining('npm run reproject'),
    }),
  ]);
});

test('a trimmed batch is reported unrepairable at every try and stays in the queue; others still heal', async () => {
  // DynamoDB Local never trims its stream: the reader answers as AWS's does after 24 hours.
  const trimmed = {
    recordsOf: () =>
      Promise.resolve({
        unavailable: 'trimmed' as const,
        reason: 'Attempted to access a sequence number that is beyond the trim horizon',
      }),
  };
  const logger = testLogger('redrive');
  const handler = createRedriveHandler({
    logger,
    reproject: reprojectorFromEnv(tables.env, { logger }),
    stream: trimmed,
  });
  const send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  await send(
    command({
      type: 'order/create',
      aggregateId: 'dlq-d',
      payload: { customerId: 'c', currency: 'EUR' },
    }),
  );
  const lost = {
    DDBStreamBatchInfo: {
      shardId: 'shardId-1',
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      batchSize: 2,
      streamArn: tables.eventStreamArn,
      approximateArrivalOfFirstRecord: '2026-01-01T00:00:00Z',
      approximateArrivalOfLastRecord: '2026-01-01T00:00:01Z',
    },
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const { result, lines } = await captureLogs(() =>
      handler(sqsEvent(lost, { aggregateIds: ['dlq-d'] })),
    );
    // Never deleted by the function: only the operator drops it, after repairing by id.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
    expect(lines.filter((l) => l[UNREPAIRABLE.field] === UNREPAIRABLE.value)).toEqual([
      expect.objectContaining({
        messageId: 'message-0',
        unavailable: 'trimmed',
        approximateArrivalOfFirstRecord: '2026-01-01T00:00:00Z',
        advice: expect.stringMatching(
          /cannot be read back.*Projection failed.*delete this message/,
        ),
      }),
    ]);
  }
  expect((await rowOf('dlq-d'))?.version).toBe(1);
});

test("the coupled stack's redrive repairs the read models and skips the view its command wrote", async () => {
  // The coupled stack's functions share the decoupled ones' tables (lib/stacks/coupled-stack.ts):
  // its command writes the order's view with the events, so only the read models fed by many
  // orders are missing until a projector (or this redrive) runs.
  const coupledRedrive = redriveHandlerFromEnv(tables.env, { logger: testLogger('redrive') });
  const send = coupledHandlerFromEnv(tables.env, { logger: testLogger('coupled') });
  const id = 'dlq-coupled';
  for (const c of [
    { type: 'order/create', payload: { customerId: 'dlq-coupled-c', currency: 'EUR' } },
    { type: 'order/addLine', payload: { lineId: 'a', sku: 'S', quantity: 2, unitPrice: 5 } },
    { type: 'order/removeLine', payload: { lineId: 'a' } },
  ]) {
    expect((await send(command({ ...c, aggregateId: id }))).statusCode).toBe(200);
  }
  const written = await storedOrder(id);
  expect(written?.applied).toEqual({ [id]: 3 });

  expect((await coupledRedrive(sqsEvent({ aggregateIds: [id] }))).batchItemFailures).toEqual([]);
  const log = await new DynamoDbEventStore(tables.doc, tables.eventTable).load(id);
  const customers = PROJECTIONS.find((p) => p.name === 'customer-summary')!;
  const expected = foldRows(customers, [log.map(toAction)]);
  expect([...expected.keys()]).toEqual(['dlq-coupled-c']);
  expect(
    await storedRows(
      tables.doc,
      tables.projectionsTable,
      storageName(customers),
      customers,
      'dlq-coupled',
    ),
  ).toEqual(expected);
  // The view's checkpoint already holds every event: the redrive leaves the row as it was.
  expect(await storedOrder(id)).toEqual(written);
});
