/**
 * A local event source mapping: reads a table's stream on DynamoDB Local through the DynamoDB
 * Streams API and invokes a handler with the event Lambda would send, with the same settings
 * and the same failure semantics as Lambda's DynamoDB event source mapping:
 *
 * - every shard is read, new shards as they appear, a child only after its parent is done;
 *   records of one shard are delivered in order, one batch at a time;
 * - a `batchItemFailures` response checkpoints the records before the first one it names and
 *   retries from there (an unknown or empty identifier fails the whole batch, as in Lambda);
 *   a thrown error fails the whole batch;
 * - `bisectOnError` splits a failed batch in two and retries each half (splits do not count
 *   as retries); `maxRetries` and `maxRecordAgeSeconds` bound the retries (-1: unbounded, the
 *   Lambda default, which blocks the shard behind a poison record until it expires);
 * - records that exhaust their retries or expire go to the on-failure destination, here a
 *   JSON-lines file; without one they are dropped with a warning (Lambda drops them silently).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type AttributeValue as StreamsAttributeValue,
  type _Record as StreamsRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue as LambdaAttributeValue,
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | void>;

/** The event source mapping's settings; the defaults are Lambda's. */
export interface StreamPollerOptions {
  /** Wait between polls of a shard that had nothing new (ms). Lambda polls 4 times a second. */
  readonly pollIntervalMs?: number;
  /** Most records per invocation (Lambda: 1..10000, default 100). */
  readonly batchSize?: number;
  /** Gather records for up to this long before invoking (ms; Lambda's MaximumBatchingWindow). */
  readonly batchingWindowMs?: number;
  /** Retries of a failing batch before its records go to the on-failure file; -1: unbounded. */
  readonly maxRetries?: number;
  /** Split a failed batch in two and retry the halves separately. */
  readonly bisectOnError?: boolean;
  /** Records older than this are not delivered but sent to the on-failure file; -1: no limit. */
  readonly maxRecordAgeSeconds?: number;
  /** JSON-lines file that receives records that exhausted their retries or expired. */
  readonly onFailureFile?: string;
  /** Where a shard is first read from. */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}

export const POLLER_DEFAULTS = {
  pollIntervalMs: 250,
  batchSize: 100,
  batchingWindowMs: 0,
  maxRetries: -1,
  bisectOnError: false,
  maxRecordAgeSeconds: -1,
  startingPosition: 'TRIM_HORIZON',
} as const satisfies Required<Omit<StreamPollerOptions, 'onFailureFile'>>;

/** The accepted range of each numeric setting (inclusive), shared with the CLI's flags. */
export const POLLER_LIMITS = {
  pollIntervalMs: [1, 60_000],
  batchSize: [1, 10_000],
  batchingWindowMs: [0, 300_000],
  maxRetries: [-1, 10_000],
  maxRecordAgeSeconds: [-1, 604_800],
} as const satisfies Record<string, readonly [number, number]>;

export interface PollerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface StreamPollerConfig extends StreamPollerOptions {
  /** DynamoDB Local's endpoint (the Streams API is served on the same port). */
  readonly endpoint: string;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  /** The function name the handler sees in its context. */
  readonly functionName?: string;
  readonly log?: PollerLog;
}

export interface StreamPollerStats {
  readonly shards: number;
  readonly polls: number;
  readonly invocations: number;
  /** Records the handler accepted (checkpointed). */
  readonly delivered: number;
  /** Failed invocations that were retried. */
  readonly retries: number;
  /** Records sent to the on-failure destination (or dropped without one). */
  readonly failedRecords: number;
}

export interface StreamPoller {
  readonly settings: Required<Omit<StreamPollerOptions, 'onFailureFile'>> & {
    onFailureFile?: string;
  };
  stats(): StreamPollerStats;
  /** Stops polling and waits for the batch in flight; undelivered records stay in the stream. */
  stop(): Promise<void>;
}

export class StreamPollerError extends Error {
  override readonly name = 'StreamPollerError';
}

const SHARD_DISCOVERY_INTERVAL_MS = 1000;
const MAX_RETRY_DELAY_MS = 5000;

/** Stream attribute values as Lambda's JSON event carries them (binary as base64). */
const toLambdaValue = (value: StreamsAttributeValue): LambdaAttributeValue => {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  // The Streams client hands an empty map (`{"M":{}}` on the wire) over as `{}`, a value with
  // no member; Lambda sends `{"M":{}}`, which is what unmarshall needs.
  if (Object.keys(value).length === 0) return { M: {} };
  return value as LambdaAttributeValue;
};

const toLambdaImage = (image: Record<string, StreamsAttributeValue>) =>
  Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaValue(v)]));

/** One stream record exactly as Lambda's event source mapping delivers it. */
export const toLambdaRecord = (record: StreamsRecord, streamArn: string): DynamoDBRecord => {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? streamArn.split(':')[3],
    dynamodb: {
      ...(created && { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
      ...(stream.Keys && { Keys: toLambdaImage(stream.Keys) }),
      ...(stream.NewImage && { NewImage: toLambdaImage(stream.NewImage) }),
      ...(stream.OldImage && { OldImage: toLambdaImage(stream.OldImage) }),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
};

/** Waits `ms`, or less when the signal aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolveSleep) => {
    if (ms <= 0 || signal.aborted) return resolveSleep();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolveSleep();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

type Delivery = { ok: true } | { ok: false; failedFrom: number; error: string };

export const startStreamPoller = async (config: StreamPollerConfig): Promise<StreamPoller> => {
  const settings = { ...POLLER_DEFAULTS, ...withoutUndefined(config) };
  validate(settings);
  const { streamArn, handler } = config;
  const functionName = config.functionName ?? 'projector';
  const log = config.log ?? { info: () => {}, warn: () => {}, error: () => {} };
  const client = new DynamoDBStreamsClient({
    endpoint: config.endpoint,
    region: streamArn.split(':')[3] || 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const stopping = new AbortController();
  const counters = {
    polls: 0,
    invocations: 0,
    delivered: 0,
    retries: 0,
    failedRecords: 0,
  };
  const known = new Map<string, Shard>();
  const started = new Set<string>();
  const finished = new Set<string>();
  const workers = new Set<Promise<void>>();

  const listShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await client.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  };

  /** Starts a worker for every shard whose parent is done (or gone from the stream). */
  const startReadyShards = () => {
    for (const [shardId, shard] of known) {
      if (started.has(shardId) || stopping.signal.aborted) continue;
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !finished.has(parent)) continue;
      started.add(shardId);
      const worker = readShard(shardId)
        .catch((error) =>
          log.error('Shard reader stopped', { shardId, error: describeError(error) }),
        )
        .finally(() => {
          finished.add(shardId);
          workers.delete(worker);
          startReadyShards();
        });
      workers.add(worker);
    }
  };

  const sendToFailureDestination = async (
    shardId: string,
    records: StreamsRecord[],
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
    invokeCount: number,
    lastError: string | undefined,
  ) => {
    const first = records[0]?.dynamodb;
    const last = records[records.length - 1]?.dynamodb;
    // Lambda's on-failure record for stream sources, plus the records themselves (Lambda sends
    // only their coordinates; locally there is no stream retention to fetch them from later).
    const failure = {
      requestContext: {
        condition,
        approximateInvokeCount: invokeCount,
        functionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
      },
      responseContext: { functionError: lastError ?? null },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first?.SequenceNumber,
        endSequenceNumber: last?.SequenceNumber,
        approximateArrivalOfFirstRecord: first?.ApproximateCreationDateTime?.toISOString(),
        approximateArrivalOfLastRecord: last?.ApproximateCreationDateTime?.toISOString(),
        batchSize: records.length,
        streamArn,
      },
      records: records.map((r) => toLambdaRecord(r, streamArn)),
    };
    const file = settings.onFailureFile;
    if (!file) {
      counters.failedRecords += records.length;
      log.warn('Records dropped: no on-failure destination', {
        condition,
        ...failure.DDBStreamBatchInfo,
      });
      return;
    }
    log.warn('Records sent to the on-failure file', { condition, file, count: records.length });
    // Keep trying: giving up here would lose the records silently.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(failure)}\n`);
        counters.failedRecords += records.length;
        return;
      } catch (error) {
        log.error('Cannot write the on-failure file; retrying', {
          file,
          attempt,
          error: describeError(error),
        });
        await sleep(Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** attempt), stopping.signal);
        if (stopping.signal.aborted) return;
      }
    }
  };

  const invoke = async (records: StreamsRecord[]): Promise<Delivery> => {
    counters.invocations++;
    const event = { Records: records.map((r) => toLambdaRecord(r, streamArn)) };
    try {
      const response = await handler(event, lambdaContext(functionName));
      const failures = response?.batchItemFailures ?? [];
      if (failures.length === 0) return { ok: true };
      const indexes = failures.map((f) =>
        records.findIndex(
          (r) => !!f.itemIdentifier && r.dynamodb?.SequenceNumber === f.itemIdentifier,
        ),
      );
      // As in Lambda: an identifier that names no record of the batch fails the whole batch.
      const failedFrom = indexes.includes(-1) ? 0 : Math.min(...indexes);
      return { ok: false, failedFrom, error: `batchItemFailures: ${failures.length}` };
    } catch (error) {
      return { ok: false, failedFrom: 0, error: describeError(error) };
    }
  };

  /** Delivers one batch until every record is accepted or sent to the on-failure file. */
  const deliver = async (
    shardId: string,
    batch: StreamsRecord[],
    attemptsSoFar = 0,
  ): Promise<void> => {
    let pending = batch;
    let attempts = attemptsSoFar;
    let lastError: string | undefined;
    while (pending.length > 0 && !stopping.signal.aborted) {
      if (settings.maxRecordAgeSeconds >= 0) {
        const oldest = Date.now() - settings.maxRecordAgeSeconds * 1000;
        const fresh = pending.findIndex(
          (r) => (r.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Date.now()) >= oldest,
        );
        const expired = fresh === -1 ? pending.length : fresh;
        if (expired > 0) {
          await sendToFailureDestination(
            shardId,
            pending.slice(0, expired),
            'RecordAgeExceeded',
            attempts,
            lastError,
          );
          pending = pending.slice(expired);
          continue;
        }
      }
      const outcome = await invoke(pending);
      if (outcome.ok) {
        counters.delivered += pending.length;
        return;
      }
      counters.delivered += outcome.failedFrom;
      pending = pending.slice(outcome.failedFrom);
      lastError = outcome.error;
      if (settings.bisectOnError && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        log.warn('Batch failed; bisecting', { shardId, records: pending.length, error: lastError });
        await deliver(shardId, pending.slice(0, half), attempts);
        await deliver(shardId, pending.slice(half), attempts);
        return;
      }
      attempts++;
      if (settings.maxRetries >= 0 && attempts > settings.maxRetries) {
        await sendToFailureDestination(
          shardId,
          pending,
          'RetryAttemptsExhausted',
          attempts,
          lastError,
        );
        return;
      }
      counters.retries++;
      log.warn('Batch failed; retrying', {
        shardId,
        attempt: attempts,
        records: pending.length,
        error: lastError,
      });
      await sleep(
        Math.min(MAX_RETRY_DELAY_MS, settings.pollIntervalMs * 2 ** (attempts - 1)),
        stopping.signal,
      );
    }
  };

  const readShard = async (shardId: string) => {
    let checkpoint: string | undefined; // sequence number of the last record handled
    const iteratorFrom = async () =>
      (
        await client.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ...(checkpoint
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }
              : { ShardIteratorType: settings.startingPosition }),
          }),
        )
      ).ShardIterator;

    let iterator = await iteratorFrom();
    while (iterator && !stopping.signal.aborted) {
      const pollStarted = Date.now();
      const batch: StreamsRecord[] = [];
      try {
        for (;;) {
          const page: GetRecordsCommandOutput = await client.send(
            new GetRecordsCommand({
              ShardIterator: iterator,
              Limit: settings.batchSize - batch.length,
            }),
          );
          counters.polls++;
          batch.push(...(page.Records ?? []));
          iterator = page.NextShardIterator;
          const windowLeft = pollStarted + settings.batchingWindowMs - Date.now();
          if (!iterator || batch.length >= settings.batchSize || windowLeft <= 0) break;
          await sleep(Math.min(windowLeft, settings.pollIntervalMs), stopping.signal);
          if (stopping.signal.aborted) return;
        }
      } catch (error) {
        if (stopping.signal.aborted) return;
        // An expired iterator or a restarting DynamoDB Local: resume after the checkpoint.
        log.warn('Reading the stream failed; resuming', { shardId, error: describeError(error) });
        await sleep(settings.pollIntervalMs, stopping.signal);
        iterator = await iteratorFrom();
        continue;
      }
      if (batch.length > 0) {
        await deliver(shardId, batch);
        if (stopping.signal.aborted) return;
        checkpoint = batch[batch.length - 1]?.dynamodb?.SequenceNumber ?? checkpoint;
      }
      // A full batch means more is waiting: read on at once; otherwise keep Lambda's cadence.
      if (batch.length < settings.batchSize) {
        await sleep(pollStarted + settings.pollIntervalMs - Date.now(), stopping.signal);
      }
    }
  };

  const discover = async () => {
    for (const shard of await listShards()) {
      if (shard.ShardId && !known.has(shard.ShardId)) known.set(shard.ShardId, shard);
    }
    startReadyShards();
  };

  try {
    await discover();
  } catch (error) {
    client.destroy();
    throw new StreamPollerError(`Cannot read the stream ${streamArn}: ${describeError(error)}`);
  }
  const discovery = (async () => {
    while (!stopping.signal.aborted) {
      await sleep(SHARD_DISCOVERY_INTERVAL_MS, stopping.signal);
      if (stopping.signal.aborted) break;
      await discover().catch((error) =>
        log.warn('Listing shards failed', { error: describeError(error) }),
      );
    }
  })();

  return {
    settings,
    stats: () => ({ shards: known.size, ...counters }),
    async stop() {
      stopping.abort();
      await discovery;
      while (workers.size > 0) await Promise.all([...workers]);
      client.destroy();
    },
  };
};

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(settings: Required<Omit<StreamPollerOptions, 'onFailureFile'>>) {
  const problems: string[] = [];
  for (const [name, [min, max]] of Object.entries(POLLER_LIMITS)) {
    const value = settings[name as keyof typeof POLLER_LIMITS];
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  if (!['TRIM_HORIZON', 'LATEST'].includes(settings.startingPosition))
    problems.push(`startingPosition must be TRIM_HORIZON or LATEST`);
  if (problems.length > 0)
    throw new StreamPollerError(`Invalid poller settings: ${problems.join('; ')}`);
}
