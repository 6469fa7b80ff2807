/**
 * Lambda's rules for a DynamoDB stream batch that fails, as pure functions: the stream poller
 * (local/emulators/stream-poller.ts) reads, invokes, and applies what these decide. No I/O, no clock (the
 * time is a parameter), so each rule is tested on its own (test/unit/stream-retry-policy.test.ts).
 *
 * - a partial batch response (ReportBatchItemFailures) checkpoints the records before the lowest
 *   one it names; an unknown or empty identifier fails the whole batch;
 * - records older than `maxRecordAgeSeconds` at the head of the batch are not delivered but go to
 *   the on-failure destination (`RecordAgeExceeded`);
 * - a thrown error with `bisectOnError` splits the rest of the batch in two, each half retried on
 *   its own (a split is not a retry); after a partial batch response the remainder is retried
 *   whole, not halved;
 * - otherwise the remainder is retried after a backoff until `maxRetries` retries have failed,
 *   then goes to the on-failure destination (`RetryAttemptsExhausted`); -1: unbounded.
 *
 * AWS Lambda guide: services-ddb-batchfailurereporting.html, services-dynamodb-errors.html.
 */
import { type BackoffPolicy, backoffDelay } from '../../lambdas/core/shared/backoff';

/** What the rules read of a stream record (the Streams API's record has these fields). */
export interface PolicyRecord {
  readonly dynamodb?: {
    readonly SequenceNumber?: string;
    readonly ApproximateCreationDateTime?: Date;
  };
}

/** The settings of the event source mapping these rules read. */
export interface RetrySettings {
  /** Retries of a failing batch before its records go to the on-failure destination; -1: unbounded. */
  readonly maxRetries: number;
  readonly bisectOnError: boolean;
  /** -1: no limit. */
  readonly maxRecordAgeSeconds: number;
  /** A failed batch waits this long before its first retry, doubling up to the cap. */
  readonly pollIntervalMs: number;
}

/** The longest wait between retries of a batch, a Streams call or a reader (ms). */
export const MAX_RETRY_DELAY_MS = 5000;

/**
 * Streams calls and restarted readers: full jitter (a random wait up to 200 ms, doubling to
 * 5 s), so retries of many shards spread out.
 */
export const STREAM_CALL_BACKOFF: BackoffPolicy = {
  baseMs: 200,
  maxMs: MAX_RETRY_DELAY_MS,
  jitter: 1,
};
/** Writes of the on-failure file: 200 ms doubling to 5 s, no jitter (one writer). */
export const FAILURE_FILE_BACKOFF: BackoffPolicy = { ...STREAM_CALL_BACKOFF, jitter: 0 };
/** A failed batch: pollIntervalMs doubling to 5 s, no jitter (a shard has one batch in flight). */
export const batchRetryBackoff = (
  settings: Pick<RetrySettings, 'pollIntervalMs'>,
): BackoffPolicy => ({
  baseMs: settings.pollIntervalMs,
  maxMs: MAX_RETRY_DELAY_MS,
  jitter: 0,
});

/** The outcome of one invocation: `error` is a thrown error, `response` a partial batch answer. */
export type Delivery =
  | { readonly ok: true; readonly requestId: string }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly kind: 'error' | 'response';
      /** The index of the first record to retry: those before it are accepted. */
      readonly failedFrom: number;
      readonly error: string;
    };
export type Failed = Extract<Delivery, { ok: false }>;

/** The handler's answer read as Lambda reads it (ReportBatchItemFailures). */
export const responseOutcome = (
  records: readonly PolicyRecord[],
  failures: readonly { readonly itemIdentifier?: string }[],
  requestId: string,
): Delivery => {
  if (failures.length === 0) return { ok: true, requestId };
  const indexes = failures.map((f) =>
    records.findIndex((r) => !!f.itemIdentifier && r.dynamodb?.SequenceNumber === f.itemIdentifier),
  );
  // As in Lambda: the lowest failed record is the checkpoint; an identifier that names no
  // record of the batch fails the whole batch.
  const failedFrom = indexes.includes(-1) ? 0 : Math.min(...indexes);
  return {
    ok: false,
    requestId,
    kind: 'response',
    failedFrom,
    error: `batchItemFailures: ${failures.length}`,
  };
};

/** A batch being delivered: what is left of it, the failed invocations so far, the last failure. */
export interface BatchState<R> {
  readonly pending: readonly R[];
  readonly attempts: number;
  readonly last?: Failed;
}

/** Before an invocation: nothing left, expired records to send away first, or invoke. */
export type BeforeInvoke<R> =
  | { readonly kind: 'done' }
  | { readonly kind: 'expire'; readonly records: readonly R[]; readonly next: BatchState<R> }
  | { readonly kind: 'invoke'; readonly records: readonly R[] };

export const beforeInvoke = <R extends PolicyRecord>(
  state: BatchState<R>,
  settings: Pick<RetrySettings, 'maxRecordAgeSeconds'>,
  now: number,
): BeforeInvoke<R> => {
  const { pending } = state;
  if (pending.length === 0) return { kind: 'done' };
  if (settings.maxRecordAgeSeconds >= 0) {
    const oldest = now - settings.maxRecordAgeSeconds * 1000;
    // A record without a creation time counts as fresh.
    const fresh = pending.findIndex(
      (r) => (r.dynamodb?.ApproximateCreationDateTime?.getTime() ?? now) >= oldest,
    );
    const expired = fresh === -1 ? pending.length : fresh;
    if (expired > 0) {
      return {
        kind: 'expire',
        records: pending.slice(0, expired),
        next: { ...state, pending: pending.slice(expired) },
      };
    }
  }
  return { kind: 'invoke', records: pending };
};

/** After an invocation; `delivered` records (from the head of `pending`) were accepted. */
export type AfterInvoke<R> =
  | { readonly kind: 'delivered'; readonly delivered: number }
  | {
      readonly kind: 'bisect';
      readonly delivered: number;
      readonly halves: readonly [readonly R[], readonly R[]];
      /** Each half starts with the failures so far (the split itself is not one). */
      readonly attempts: number;
      readonly error: string;
    }
  | {
      readonly kind: 'exhausted';
      readonly delivered: number;
      readonly records: readonly R[];
      readonly attempts: number;
      readonly last: Failed;
    }
  | {
      readonly kind: 'retry';
      readonly delivered: number;
      readonly next: BatchState<R> & { readonly last: Failed };
      readonly delayMs: number;
    };

export const afterInvoke = <R>(
  state: BatchState<R>,
  outcome: Delivery,
  settings: RetrySettings,
): AfterInvoke<R> => {
  if (outcome.ok) return { kind: 'delivered', delivered: state.pending.length };
  const delivered = outcome.failedFrom;
  const rest = state.pending.slice(delivered);
  // Lambda halves a batch whose invocation failed; after a partial batch response it "bisects
  // the batch at the returned sequence number and retries only the remaining records"
  // (services-ddb-batchfailurereporting.html): the remainder is not halved.
  if (settings.bisectOnError && outcome.kind === 'error' && rest.length > 1) {
    const half = Math.ceil(rest.length / 2);
    return {
      kind: 'bisect',
      delivered,
      halves: [rest.slice(0, half), rest.slice(half)],
      attempts: state.attempts,
      error: outcome.error,
    };
  }
  const attempts = state.attempts + 1;
  if (settings.maxRetries >= 0 && attempts > settings.maxRetries) {
    return { kind: 'exhausted', delivered, records: rest, attempts, last: outcome };
  }
  return {
    kind: 'retry',
    delivered,
    next: { pending: rest, attempts, last: outcome },
    delayMs: backoffDelay(attempts, batchRetryBackoff(settings)),
  };
};

/** Lambda's DynamoDB on-failure record writes arrival times in whole seconds. */
const arrival = (date: Date | undefined) => date?.toISOString().replace(/\.\d{3}Z$/, 'Z');

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/**
 * Lambda's invocation record for records sent to the on-failure destination
 * (services-dynamodb-errors.html), plus two local additions: `errorMessage` and the records
 * themselves (Lambda sends only their coordinates; locally there is no stream retention to fetch
 * them from later). `requestId` is the last invocation's, or a new one when none reached the
 * function.
 */
export const onFailureRecord = <L>(input: {
  readonly shardId: string;
  readonly streamArn: string;
  readonly functionName: string;
  readonly condition: FailureCondition;
  readonly invokeCount: number;
  readonly last: Failed | undefined;
  readonly records: readonly PolicyRecord[];
  /** The same records as Lambda's event carries them. */
  readonly lambdaRecords: readonly L[];
  readonly requestId: string;
  readonly timestamp: string;
}) => {
  const { last, records } = input;
  const first = records[0]?.dynamodb;
  const lastRecord = records[records.length - 1]?.dynamodb;
  return {
    requestContext: {
      requestId: last?.requestId ?? input.requestId,
      functionArn: `arn:aws:lambda:local:000000000000:function:${input.functionName}`,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    // Only for records that reached the function. A thrown error is what Lambda's Node.js
    // runtime reports as `Unhandled`; a partial batch response is a successful invocation, so it
    // has no `functionError`.
    ...(last && {
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(last.kind === 'error' && { functionError: 'Unhandled' }),
      },
    }),
    version: '1.0',
    timestamp: input.timestamp,
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first?.SequenceNumber,
      endSequenceNumber: lastRecord?.SequenceNumber,
      approximateArrivalOfFirstRecord: arrival(first?.ApproximateCreationDateTime),
      approximateArrivalOfLastRecord: arrival(lastRecord?.ApproximateCreationDateTime),
      batchSize: records.length,
      streamArn: input.streamArn,
    },
    ...(last && { errorMessage: last.error }),
    records: input.lambdaRecords,
  };
};
