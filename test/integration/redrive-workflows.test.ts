/**
 * The workflows' redrive on DynamoDB Local (issue 22: "failures retried, then sent to the
 * dead-letter path with redrive, like projections"). A process step fails (a `send` that throws
 * once, as a throttled command would), its batch goes to the dead-letter path, and the redrive
 * completes it: the order gets confirmed, each SKU is reserved once, and a second redrive
 * changes nothing.
 *
 * - In AWS: the redrive function's handler (lambdas/handlers/redrive.ts, wired as the cloud
 *   wires it) reads a dead-letter message's stream coordinates back from the real stream; an
 *   operator's `events` message and a failed timer work the same way; a trimmed batch is
 *   unrepairable and says what to do.
 * - Locally: the stream poller writes the failure to `<file>.decoupled-workflows.jsonl`, and
 *   `npm run redrive` (a real child process) runs the processes again.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { SQSEvent } from 'aws-lambda';
import type { ProcessTimer } from '../../lambdas/core/workflows/process-runner';
import { createRedriveHandler, UNREPAIRABLE } from '../../lambdas/handlers/redrive';
import {
  processRedriveFromEnv,
  workflowsRedriveHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { failureFileFor } from '../../local/emulators/runtime';
import { startStreamPoller } from '../../local/emulators/stream-poller';
import { createTestTables, testEndpoint, type TestTables } from '../support/dynamo';
import { fulfilmentOn } from '../support/fulfilment';
import { captureLogs, testLogger } from '../support/logs';
import { runProcess } from '../support/processes';

const logger = testLogger('workflows');

/** Where a test's redrive sets its timers (the cloud's is EventBridge Scheduler). */
const recordingTimers = () => {
  const set: ProcessTimer[] = [];
  return { set, schedule: async (timer: ProcessTimer) => void set.push(timer) };
};

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
    eventSourceARN: 'arn:aws:sqs:local:000000000000:workflows-dlq',
    awsRegion: 'local',
  })),
});

describe('the redrive function of the workflows dead-letter queues', () => {
  let tables: TestTables;
  let on: ReturnType<typeof fulfilmentOn>;
  const streams = new DynamoDBStreamsClient({
    endpoint: testEndpoint(),
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  beforeAll(async () => {
    tables = await createTestTables({ stream: true });
    on = fulfilmentOn(tables);
  });
  afterAll(async () => {
    streams.destroy();
    await tables.drop();
  });

  /** Lambda's on-failure message for the stream records of `aggregateId` (and any between). */
  const deadLetterMessageFor = async (aggregateId: string) => {
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
    const own = Records.filter((r) => r.dynamodb!.Keys!.aggregateId!.S === aggregateId);
    return {
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: own[0]!.dynamodb!.SequenceNumber,
        endSequenceNumber: own.at(-1)!.dynamodb!.SequenceNumber,
        streamArn: tables.eventStreamArn,
      },
    };
  };

  it('given a step whose send threw, when the DLQ message (stream coordinates) is redriven, then the order is confirmed; a second redrive changes nothing', async () => {
    const sku = `s-${randomUUID().slice(0, 6)}`;
    const orderId = await on.submittedOrder({ [sku]: 2 }, { [sku]: 5 });
    const live = on.workflows((type) => type === 'inventory/reserve');
    expect((await live.handle(await on.batchOf(orderId))).batchItemFailures).toHaveLength(1);
    expect((await on.typesOf(orderId)).at(-1)).toBe('order/submitted');

    const timers = recordingTimers();
    const redrive = workflowsRedriveHandlerFromEnv(tables.env, { logger, timers });
    const message = await deadLetterMessageFor(orderId);
    expect(await redrive(sqsEvent(message))).toEqual({ batchItemFailures: [] });
    const order = await on.typesOf(orderId);
    const stock = await on.typesOf(sku);
    expect(order.at(-1)).toBe('order/confirmed');
    expect(stock).toEqual(['inventory/received', 'inventory/reserved']);
    const confirmed = (await on.store.load(orderId)).at(-1);
    expect(confirmed).toMatchObject({ actor: 'process:order-fulfilment' });

    expect(await redrive(sqsEvent(message))).toEqual({ batchItemFailures: [] });
    expect(await on.typesOf(orderId)).toEqual(order);
    expect(await on.typesOf(sku)).toEqual(stock);
  });

  it('given a process stuck after its reservations, when an operator sends its failed event, then it resumes at the confirm and reserves nothing twice', async () => {
    const [a, b] = [`s-${randomUUID().slice(0, 6)}`, `s-${randomUUID().slice(0, 6)}`];
    const orderId = await on.submittedOrder({ [a]: 1, [b]: 2 }, { [a]: 5, [b]: 5 });
    const live = on.workflows((type) => type === 'order/confirm');
    expect((await live.handle(await on.batchOf(orderId))).batchItemFailures).toHaveLength(1);
    const submitted = (await on.store.load(orderId)).at(-1)!;

    const redrive = workflowsRedriveHandlerFromEnv(tables.env, {
      logger,
      timers: recordingTimers(),
    });
    const body = { events: [{ aggregateId: orderId, version: submitted.version }] };
    expect(await redrive(sqsEvent(body))).toEqual({ batchItemFailures: [] });
    expect((await on.typesOf(orderId)).at(-1)).toBe('order/confirmed');
    expect(await on.typesOf(a)).toEqual(['inventory/received', 'inventory/reserved']);
    expect(await on.typesOf(b)).toEqual(['inventory/received', 'inventory/reserved']);
  });

  it('given a timer the function failed on, when redriven, then the stuck order is rejected as timed out, once', async () => {
    const sku = `s-${randomUUID().slice(0, 6)}`;
    const orderId = await on.submittedOrder({ [sku]: 3 }, { [sku]: 5 });
    const live = on.workflows((type) => type === 'order/confirm');
    expect((await live.handle(await on.batchOf(orderId))).batchItemFailures).toHaveLength(1);
    const [timer] = live.timers;

    const redrive = workflowsRedriveHandlerFromEnv(tables.env, {
      logger,
      timers: recordingTimers(),
    });
    // The timer dead-letter queue's body is the invocation's input, as it was.
    expect(await redrive(sqsEvent({ processTimer: timer }))).toEqual({ batchItemFailures: [] });
    expect((await on.store.load(orderId)).at(-1)).toMatchObject({
      type: 'order/rejected',
      payload: { reason: 'timed-out' },
    });
    const released = await on.typesOf(sku);
    expect(released).toEqual(['inventory/received', 'inventory/reserved', 'inventory/released']);

    expect(await redrive(sqsEvent({ processTimer: timer }))).toEqual({ batchItemFailures: [] });
    expect(await on.typesOf(sku)).toEqual(released);
  });

  it('given a batch the stream no longer holds, then it is unrepairable, says how to send its events, and stays', async () => {
    const trimmed = {
      recordsOf: () =>
        Promise.resolve({ unavailable: 'trimmed' as const, reason: 'beyond the trim horizon' }),
    };
    const handler = createRedriveHandler({
      logger,
      processes: processRedriveFromEnv(tables.env, { logger, timers: recordingTimers() }),
      stream: trimmed,
    });
    const lost = {
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: '100',
        endSequenceNumber: '200',
        streamArn: tables.eventStreamArn,
      },
    };
    const { result, lines } = await captureLogs(() => handler(sqsEvent(lost)));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
    expect(lines.filter((l) => l[UNREPAIRABLE.field] === UNREPAIRABLE.value)).toEqual([
      expect.objectContaining({
        unavailable: 'trimmed',
        advice: expect.stringMatching(/"Process failed".*\{"events":\[.*delete this message/),
      }),
    ]);
  });
});

describe('npm run redrive, locally', () => {
  let tables: TestTables;
  let on: ReturnType<typeof fulfilmentOn>;
  let dir: string;

  beforeAll(async () => {
    tables = await createTestTables({ stream: true });
    on = fulfilmentOn(tables);
    dir = mkdtempSync(join(tmpdir(), 'redrive-workflows-'));
  });
  afterAll(async () => {
    await tables.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (check: () => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** The CLI as `npm run redrive` runs it, on this test's tables. */
  const redrive = async (file: string) => {
    const run = runProcess('node', [
      '--import',
      'tsx',
      'local/tools/redrive.ts',
      'redrive',
      '--file',
      file,
      '--endpoint',
      testEndpoint(),
      '--event-table',
      tables.eventTable,
      '--projections-table',
      tables.projectionsTable,
      '--commands-table',
      tables.commandsTable,
      '--snapshots-table',
      tables.snapshotsTable,
    ]);
    const code = await run.exited;
    return { code, stdout: run.stdout, stderr: run.stderr };
  };

  it('given a step whose send threw once, when the poller gives up on it, then npm run redrive confirms the order; a second redrive sends nothing', async () => {
    const file = join(dir, 'failed-records.jsonl');
    // What the local runtime names the decoupled workflows poller's file.
    const workflowsFile = failureFileFor(file, 'decoupled-workflows');
    let failures = 1;
    const live = on.workflows((type) => type === 'inventory/reserve' && failures-- > 0);
    const poller = await startStreamPoller({
      endpoint: testEndpoint(),
      streamArn: tables.eventStreamArn!,
      handler: live.handle,
      pollIntervalMs: 20,
      maxRetries: 0,
      onFailureFile: workflowsFile,
    });
    const sku = `s-${randomUUID().slice(0, 6)}`;
    let orderId: string;
    try {
      orderId = await on.submittedOrder({ [sku]: 2 }, { [sku]: 5 });
      await until(
        () => existsSync(workflowsFile) && readFileSync(workflowsFile, 'utf8').includes(orderId),
      );
    } finally {
      await poller.stop();
    }
    expect((await on.typesOf(orderId)).at(-1)).toBe('order/submitted');
    const entry = readFileSync(workflowsFile, 'utf8');

    const first = await redrive(file);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Redriving ${workflowsFile}: the decoupled stack's processes`);
    expect(first.stdout).toMatch(
      new RegExp(`${orderId}: processes run up to version \\d+ \\(2 commands sent\\)`),
    );
    expect(first.stdout).toMatch(/Redrive done: (\d+) of \1 entries repaired and removed/);
    const order = await on.typesOf(orderId);
    expect(order.at(-1)).toBe('order/confirmed');
    expect(await on.typesOf(sku)).toEqual(['inventory/received', 'inventory/reserved']);
    expect(existsSync(workflowsFile) ? readFileSync(workflowsFile, 'utf8') : '').toBe('');

    // The same entry again (a rerun after a crash, a copy): every process is past it.
    writeFileSync(workflowsFile, entry);
    const second = await redrive(file);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(`${orderId}: processes run up to version \\d+ \\(0 commands sent\\)`),
    );
    expect(await on.typesOf(orderId)).toEqual(order);
    expect(await on.typesOf(sku)).toEqual(['inventory/received', 'inventory/reserved']);

    const none = await redrive(file);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('Nothing to redrive');
  }, 120_000);

  it('given a workflows file and explicit tables without the commands table, then it is left as it is, exit 1', async () => {
    const file = join(dir, 'no-commands.jsonl');
    const workflowsFile = failureFileFor(file, 'decoupled-workflows');
    const line = JSON.stringify({ events: [{ aggregateId: 'o-x', version: 1 }] });
    writeFileSync(workflowsFile, `${line}\n`);
    const run = runProcess('node', [
      '--import',
      'tsx',
      'local/tools/redrive.ts',
      'redrive',
      '--file',
      file,
      '--endpoint',
      testEndpoint(),
      '--event-table',
      tables.eventTable,
      '--projections-table',
      tables.projectionsTable,
    ]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain('--commands-table');
    expect(readFileSync(workflowsFile, 'utf8')).toBe(`${line}\n`);
  });
});
