/**
 * A local event source mapping: reads a table's stream on DynamoDB Local through the DynamoDB
 * Streams API and invokes a handler with the event Lambda would send, with the same settings
 * and the same failure semantics as Lambda's DynamoDB event source mapping:
 *
 * - every shard is read, new shards as they appear, a child only after its parent was read to
 *   its end; records of one shard are delivered in order, one batch at a time;
 * - a batch is gathered from several `GetRecords` pages when needed (a page holds at most 1000
 *   records, a batch up to 10,000); a full page means more is waiting, so it is read at once;
 * - every Streams call survives transient errors (DynamoDB Local restarting, throttling) with a
 *   bounded, jittered backoff until `stop()`; an expired iterator is re-acquired after the last
 *   checkpoint; a reader that fails anyway is logged at ERROR, counted in `stats()` and restarted
 *   from its checkpoint, so a shard is never left unread;
 * - a `batchItemFailures` response checkpoints the records before the lowest one it names and
 *   retries from there (an unknown or empty identifier fails the whole batch, as in Lambda);
 *   a thrown error fails the whole batch;
 * - `bisectOnError` splits a batch whose invocation threw in two and retries each half (splits
 *   do not count as retries); after a partial batch response only the remainder is retried, it
 *   is not halved; `maxRetries` and `maxRecordAgeSeconds` bound the retries (-1: unbounded, the
 *   Lambda default, which blocks the shard behind a poison record until it expires);
 * - records that exhaust their retries or expire go to the on-failure destination, here a
 *   JSON-lines file holding Lambda's invocation record; without one they are dropped with a
 *   warning (Lambda drops them silently).
 *
 * AWS Lambda guide, the pages this follows:
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html (settings, ranges)
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
 *   (partial batch response, bisect at the returned sequence number)
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html (retries,
 *   bisect, the on-failure invocation record)
 */
import { randomUUID } from 'node:crypto';
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
import { backoffDelay } from '../../lambdas/core/shared/backoff';
import { mayWrite, processCapacityMeter } from '../../lambdas/core/shared/consumed-capacity';
import { DYNAMODB_TIMEOUTS } from '../../lambdas/core/shared/dynamodb-limits';
import { type FilterPattern, recordFilter } from './event-filter';
import { lambdaContext } from './lambda-context';
import {
  afterInvoke,
  type BatchState,
  beforeInvoke,
  type Delivery,
  type Failed,
  FAILURE_FILE_BACKOFF,
  type FailureCondition,
  onFailureRecord,
  responseOutcome,
  STREAM_CALL_BACKOFF,
} from './stream-retry-policy';

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
  /**
   * Local only, for pollers faster than Lambda's (tests): once a shard has had nothing new for
   * a second, poll it this often instead, and at once when this process writes to the stream's
   * table (every handler's DynamoDB client reports its calls to the process's capacity meter).
   * An idle 10 ms poller otherwise keeps DynamoDB Local and its process busy. 0 (the default):
   * always `pollIntervalMs`, as Lambda does.
   */
  readonly idlePollIntervalMs?: number;
}

export const POLLER_DEFAULTS = {
  pollIntervalMs: 250,
  batchSize: 100,
  batchingWindowMs: 0,
  maxRetries: -1,
  bisectOnError: false,
  maxRecordAgeSeconds: -1,
  startingPosition: 'TRIM_HORIZON',
  idlePollIntervalMs: 0,
} as const satisfies Required<Omit<StreamPollerOptions, 'onFailureFile'>>;

/** The accepted range of each numeric setting (inclusive), shared with the CLI's flags. */
export const POLLER_LIMITS = {
  pollIntervalMs: [1, 60_000],
  batchSize: [1, 10_000],
  batchingWindowMs: [0, 300_000],
  maxRetries: [-1, 10_000],
  maxRecordAgeSeconds: [-1, 604_800],
  idlePollIntervalMs: [0, 60_000],
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
  /**
   * The mapping's filter criteria (Lambda's event filtering, ./event-filter.ts): a record that
   * matches none is discarded, never delivered, and the shard reads on past it.
   */
  readonly filters?: readonly FilterPattern[];
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
  /** Streams calls (DescribeStream, GetShardIterator, GetRecords) that failed and were retried. */
  readonly streamErrors: number;
  /** Shard readers that failed in an unexpected way and were restarted from their checkpoint. */
  readonly readerRestarts: number;
  /** Records the mapping's filters discarded. */
  readonly filtered: number;
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
/** A shard with nothing new for this long is polled every idlePollIntervalMs (when set). */
const IDLE_AFTER_MS = 1000;
/** GetRecords returns at most 1000 records a call, on AWS as on DynamoDB Local. */
const GET_RECORDS_LIMIT = 1000;
/** Attempts to describe the stream at start before giving up with a clear error. */
const START_ATTEMPTS = 5;

const backoff = (attempt: number) => backoffDelay(attempt, STREAM_CALL_BACKOFF);

/**
 * What a failed Streams call means: `expired` iterators (15 minutes on AWS) and `trimmed`
 * positions (older than the 24-hour retention) are re-acquired; a `fatal` error is a request
 * this poller should never have sent or a bug, so retrying the same call cannot help; anything
 * else (connection refused while DynamoDB Local restarts, throttling, 5xx) is `transient`.
 */
const classify = (error: unknown): 'expired' | 'trimmed' | 'fatal' | 'transient' => {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ExpiredIteratorException') return 'expired';
  if (name === 'TrimmedDataAccessException') return 'trimmed';
  if (name === 'ValidationException' || error instanceof TypeError) return 'fatal';
  return 'transient';
};

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

/** Waits `ms`, or less when the signal aborts or one of `wakers` is called. */
const sleep = (ms: number, signal: AbortSignal, wakers?: Set<() => void>) =>
  new Promise<void>((resolveSleep) => {
    if (ms <= 0 || signal.aborted) return resolveSleep();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      wakers?.delete(done);
      resolveSleep();
    }
    signal.addEventListener('abort', done, { once: true });
    wakers?.add(done);
  });

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const startStreamPoller = async (config: StreamPollerConfig): Promise<StreamPoller> => {
  const settings = { ...POLLER_DEFAULTS, ...withoutUndefined(config) };
  validate(settings);
  // An unknown filter is refused here, before any client or record.
  const passes = recordFilter(config.filters);
  const { streamArn, handler } = config;
  const functionName = config.functionName ?? 'projector';
  const log = config.log ?? { info: () => {}, warn: () => {}, error: () => {} };
  const client = new DynamoDBStreamsClient({
    endpoint: config.endpoint,
    region: streamArn.split(':')[3] || 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The poller retries every call itself (until stop); a hung DynamoDB Local must not hang it.
    maxAttempts: 1,
    requestHandler: DYNAMODB_TIMEOUTS,
  });
  const stopping = new AbortController();
  const { signal } = stopping;
  const counters = {
    polls: 0,
    invocations: 0,
    delivered: 0,
    retries: 0,
    failedRecords: 0,
    streamErrors: 0,
    readerRestarts: 0,
    filtered: 0,
  };
  const known = new Map<string, Shard>();
  const started = new Set<string>();
  /** Shards read to their end (closed and drained): only these release their children. */
  const finished = new Set<string>();
  /** Per shard, the sequence number of the last record handled: where a reader resumes. */
  const checkpoints = new Map<string, string>();
  const workers = new Set<Promise<void>>();
  // An idle shard's reader sleeps until this process writes to the stream's table (or its idle
  // interval ends): the writes this process has made, and the sleeping readers to wake.
  let writes = 0;
  const wakers = new Set<() => void>();
  const tableName = /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
  const stopWatchingWrites =
    settings.idlePollIntervalMs > 0 && tableName !== undefined
      ? processCapacityMeter().onRecord((table, operation) => {
          if (table !== tableName || !mayWrite(operation)) return;
          writes++;
          for (const wake of [...wakers]) wake();
        })
      : () => undefined;

  /** One Streams call, retried on transient errors until it succeeds or the poller stops. */
  const call = async <T>(
    what: string,
    context: Record<string, unknown>,
    send: () => Promise<T>,
    passOn: (kind: ReturnType<typeof classify>) => boolean = (kind) => kind === 'fatal',
  ): Promise<T | undefined> => {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return undefined;
      try {
        const result = await send();
        if (attempt > 1)
          log.info(`${what} succeeds again`, { ...context, failedAttempts: attempt - 1 });
        return result;
      } catch (error) {
        if (signal.aborted) return undefined;
        if (passOn(classify(error))) throw error;
        counters.streamErrors++;
        // The first failure of a run and every tenth after it: a long outage stays readable.
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn(`${what} failed; retrying`, {
            ...context,
            attempt,
            error: describeError(error),
          });
        }
        await sleep(backoff(attempt), signal);
      }
    }
  };

  const listShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await client.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
        { abortSignal: signal },
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  };

  /** Starts a worker for every shard whose parent was read to its end (or is gone). */
  const startReadyShards = () => {
    for (const [shardId, shard] of known) {
      if (started.has(shardId) || signal.aborted) continue;
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !finished.has(parent)) continue;
      started.add(shardId);
      const worker = superviseShard(shardId).finally(() => workers.delete(worker));
      workers.add(worker);
    }
  };

  /**
   * Keeps a shard's reader alive: a reader that fails is logged at ERROR, counted and started
   * again from its checkpoint. The shard counts as finished only when it was read to its end.
   */
  const superviseShard = async (shardId: string) => {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        if ((await readShard(shardId)) === 'closed') {
          log.info('Shard read to its end', { shardId });
          finished.add(shardId);
          startReadyShards();
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        counters.readerRestarts++;
        log.error('Shard reader failed; restarting it from its checkpoint', {
          shardId,
          restarts: failures,
          checkpoint: checkpoints.get(shardId),
          error: describeError(error),
        });
        await sleep(backoff(failures), signal);
      }
    }
  };

  /** Records that exhausted their retries or expired: to the on-failure file, or dropped. */
  const sendToFailureDestination = async (
    shardId: string,
    records: readonly StreamsRecord[],
    condition: FailureCondition,
    invokeCount: number,
    last: Failed | undefined,
  ) => {
    const failure = onFailureRecord({
      shardId,
      streamArn,
      functionName,
      condition,
      invokeCount,
      last,
      records,
      lambdaRecords: records.map((r) => toLambdaRecord(r, streamArn)),
      requestId: randomUUID(),
      timestamp: new Date().toISOString(),
    });
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
        await sleep(backoffDelay(attempt, FAILURE_FILE_BACKOFF), signal);
        if (signal.aborted) return;
      }
    }
  };

  const invoke = async (records: readonly StreamsRecord[]): Promise<Delivery> => {
    counters.invocations++;
    const event = { Records: records.map((r) => toLambdaRecord(r, streamArn)) };
    const context = lambdaContext(functionName);
    const requestId = context.awsRequestId;
    try {
      const response = await handler(event, context);
      return responseOutcome(records, response?.batchItemFailures ?? [], requestId);
    } catch (error) {
      return { ok: false, requestId, kind: 'error', failedFrom: 0, error: describeError(error) };
    }
  };

  /**
   * Delivers one batch until every record is accepted or sent to the on-failure file: invokes,
   * and applies what Lambda's rules (stream-retry-policy.ts) decide.
   */
  const deliver = async (
    shardId: string,
    batch: readonly StreamsRecord[],
    attemptsSoFar = 0,
  ): Promise<void> => {
    let state: BatchState<StreamsRecord> = { pending: batch, attempts: attemptsSoFar };
    while (!signal.aborted) {
      const before = beforeInvoke(state, settings, Date.now());
      if (before.kind === 'done') return;
      if (before.kind === 'expire') {
        const { attempts, last } = state;
        await sendToFailureDestination(
          shardId,
          before.records,
          'RecordAgeExceeded',
          attempts,
          last,
        );
        state = before.next;
        continue;
      }
      const after = afterInvoke(state, await invoke(before.records), settings);
      counters.delivered += after.delivered;
      switch (after.kind) {
        case 'delivered':
          return;
        case 'bisect': {
          const [first, second] = after.halves;
          log.warn('Batch failed; bisecting', {
            shardId,
            records: first.length + second.length,
            error: after.error,
          });
          await deliver(shardId, first, after.attempts);
          await deliver(shardId, second, after.attempts);
          return;
        }
        case 'exhausted':
          await sendToFailureDestination(
            shardId,
            after.records,
            'RetryAttemptsExhausted',
            after.attempts,
            after.last,
          );
          return;
        case 'retry':
          counters.retries++;
          log.warn('Batch failed; retrying', {
            shardId,
            attempt: after.next.attempts,
            records: after.next.pending.length,
            error: after.next.last.error,
          });
          await sleep(after.delayMs, signal);
          state = after.next;
          break;
        default: {
          const unhandled: never = after;
          throw new Error(`Unhandled step ${(unhandled as { kind: string }).kind}`);
        }
      }
    }
  };

  /**
   * An iterator after the shard's checkpoint (or at the starting position, or at TRIM_HORIZON
   * when `trimHorizon`); undefined: stopped.
   */
  const acquireIterator = async (shardId: string, trimHorizon = false) => {
    let fromTrimHorizon = trimHorizon;
    for (;;) {
      const checkpoint = fromTrimHorizon ? undefined : checkpoints.get(shardId);
      const position = checkpoint
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: checkpoint }
        : { ShardIteratorType: fromTrimHorizon ? 'TRIM_HORIZON' : settings.startingPosition };
      try {
        const answer = await call(
          'GetShardIterator',
          { shardId, ...position },
          () =>
            client.send(
              new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...position }),
              { abortSignal: signal },
            ),
          (kind) => kind === 'fatal' || (kind === 'trimmed' && !!checkpoint),
        );
        return answer?.ShardIterator;
      } catch (error) {
        if (classify(error) !== 'trimmed') throw error;
        // The checkpoint left the stream's retention: what follows it is the oldest record left.
        log.warn('Checkpoint trimmed from the stream; reading from TRIM_HORIZON', {
          shardId,
          checkpoint,
          error: describeError(error),
        });
        fromTrimHorizon = true;
      }
    }
  };

  /**
   * One GetRecords page; `reacquire`: the iterator expired or points at trimmed data;
   * `firstRecord`: the position of a shard that was empty went stale when its first record
   * arrived (`beforeFirstRecord`: the reader has no checkpoint and has received no record yet).
   */
  const getRecords = async (
    shardId: string,
    iterator: string,
    limit: number,
    beforeFirstRecord: boolean,
  ) => {
    try {
      return await call(
        'GetRecords',
        { shardId },
        () =>
          client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), {
            abortSignal: signal,
          }),
        (kind) => kind !== 'transient',
      );
    } catch (error) {
      const kind = classify(error);
      if (kind === 'fatal') throw error;
      // DynamoDB Local numbers the records of every stream from one counter, and an iterator on
      // an empty shard stays at the shard's starting sequence number. When the shard's first
      // record arrives it has a higher number (other tables' records, and shards created since,
      // took the ones between), and DynamoDB Local answers TrimmedDataAccessException, "read
      // past the oldest stream record", for the position before it: on every fresh table, at
      // the first write. Nothing was lost: the reader has no checkpoint and received no record,
      // it polls every pollIntervalMs and retention is 24 hours, so every record in the shard
      // arrived after it last saw the shard empty. TRIM_HORIZON is where they start; no warning.
      // A trim after a checkpoint (records the reader never got) is still a WARN below.
      if (kind === 'trimmed' && beforeFirstRecord) return 'firstRecord' as const;
      log.warn('Shard iterator no longer valid; re-acquiring it after the checkpoint', {
        shardId,
        checkpoint: checkpoints.get(shardId),
        error: describeError(error),
      });
      return 'reacquire' as const;
    }
  };

  /** Reads a shard until it is closed and drained (`closed`) or the poller stops (`stopped`). */
  const readShard = async (shardId: string): Promise<'closed' | 'stopped'> => {
    let iterator = await acquireIterator(shardId);
    /** Whether this reader has received a record of the shard (or resumed from a checkpoint). */
    let received = checkpoints.has(shardId);
    let lastRecordAt = Date.now();
    while (iterator && !signal.aborted) {
      const pollStarted = Date.now();
      const writesBefore = writes;
      const batch: StreamsRecord[] = [];
      let next: string | undefined = iterator;
      let fullPage = false;
      let reacquire: 'checkpoint' | 'trimHorizon' | undefined;
      // Gather one batch: page after page while a page comes back full (more is waiting) or the
      // batching window is open, up to the batch size.
      while (next && batch.length < settings.batchSize) {
        const limit = Math.min(GET_RECORDS_LIMIT, settings.batchSize - batch.length);
        const page: GetRecordsCommandOutput | 'reacquire' | 'firstRecord' | undefined =
          await getRecords(shardId, next, limit, !received);
        if (page === undefined) return 'stopped';
        if (page === 'reacquire' || page === 'firstRecord') {
          reacquire = page === 'reacquire' ? 'checkpoint' : 'trimHorizon';
          break;
        }
        counters.polls++;
        const records = page.Records ?? [];
        if (records.length > 0) received = true;
        batch.push(...records);
        next = page.NextShardIterator;
        fullPage = records.length >= limit;
        if (fullPage) continue;
        const windowLeft = pollStarted + settings.batchingWindowMs - Date.now();
        if (windowLeft <= 0) break;
        await sleep(Math.min(windowLeft, settings.pollIntervalMs), signal);
        if (signal.aborted) return 'stopped';
      }
      if (reacquire) {
        // Records gathered since the checkpoint are read again through the new iterator.
        iterator = await acquireIterator(shardId, reacquire === 'trimHorizon');
        continue;
      }
      if (batch.length > 0) {
        lastRecordAt = Date.now();
        const kept = passes
          ? batch.filter((record) => passes(toLambdaRecord(record, streamArn)))
          : batch;
        counters.filtered += batch.length - kept.length;
        if (kept.length > 0) await deliver(shardId, kept);
        if (signal.aborted) return 'stopped';
        const last = batch[batch.length - 1]?.dynamodb?.SequenceNumber;
        if (last) checkpoints.set(shardId, last);
      }
      if (!next) return 'closed';
      iterator = next;
      // More is waiting after a full page or a full batch: read on at once; otherwise keep
      // Lambda's cadence.
      if (!fullPage && batch.length < settings.batchSize) {
        const idle =
          settings.idlePollIntervalMs > 0 &&
          Date.now() - lastRecordAt >= IDLE_AFTER_MS &&
          writes === writesBefore;
        await (idle
          ? sleep(pollStarted + settings.idlePollIntervalMs - Date.now(), signal, wakers)
          : sleep(pollStarted + settings.pollIntervalMs - Date.now(), signal));
      }
    }
    return 'stopped';
  };

  const discover = async () => {
    for (const shard of await listShards()) {
      if (shard.ShardId && !known.has(shard.ShardId)) known.set(shard.ShardId, shard);
    }
    startReadyShards();
  };

  // At start a missing stream or a DynamoDB Local that does not answer is a clear error.
  for (let attempt = 1; ; attempt++) {
    try {
      await discover();
      break;
    } catch (error) {
      if (attempt < START_ATTEMPTS && classify(error) === 'transient' && !isMissing(error)) {
        await sleep(backoff(attempt), signal);
        continue;
      }
      client.destroy();
      throw new StreamPollerError(`Cannot read the stream ${streamArn}: ${describeError(error)}`);
    }
  }
  const discovery = (async () => {
    for (let failures = 0; !signal.aborted;) {
      await sleep(
        failures === 0
          ? SHARD_DISCOVERY_INTERVAL_MS
          : SHARD_DISCOVERY_INTERVAL_MS + backoff(failures),
        signal,
      );
      if (signal.aborted) break;
      try {
        await discover();
        if (failures > 0) log.info('DescribeStream succeeds again', { failedAttempts: failures });
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        counters.streamErrors++;
        if (failures === 1 || failures % 10 === 0) {
          log.warn('DescribeStream failed; retrying', {
            attempt: failures,
            error: describeError(error),
          });
        }
      }
    }
  })();

  return {
    settings,
    stats: () => ({ shards: known.size, ...counters }),
    async stop() {
      stopWatchingWrites();
      stopping.abort();
      await discovery;
      while (workers.size > 0) await Promise.all([...workers]);
      client.destroy();
    },
  };
};

const isMissing = (error: unknown) =>
  error instanceof Error && error.name === 'ResourceNotFoundException';

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
  if (settings.idlePollIntervalMs !== 0 && settings.idlePollIntervalMs < settings.pollIntervalMs)
    problems.push(
      `idlePollIntervalMs must be 0 or at least pollIntervalMs (got ${settings.idlePollIntervalMs} < ${settings.pollIntervalMs})`,
    );
  if (!['TRIM_HORIZON', 'LATEST'].includes(settings.startingPosition))
    problems.push(`startingPosition must be TRIM_HORIZON or LATEST`);
  if (problems.length > 0)
    throw new StreamPollerError(`Invalid poller settings: ${problems.join('; ')}`);
}
