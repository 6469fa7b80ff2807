/**
 * Lambda's rules for a failing DynamoDB stream batch (local/emulators/stream-retry-policy.ts), each one
 * given / when / then sentence: given a batch (its records, failures so far and settings), when
 * an invocation ends (or before one, at a time), then the next step. No stream, no handler: the
 * poller that applies these is tested against DynamoDB Local (test/integration/stream-poller*).
 */
import { backoffDelay } from '../../lambdas/core/shared/backoff';
import {
  afterInvoke,
  type BatchState,
  batchRetryBackoff,
  beforeInvoke,
  type Delivery,
  type Failed,
  FAILURE_FILE_BACKOFF,
  onFailureRecord,
  type PolicyRecord,
  responseOutcome,
  type RetrySettings,
  STREAM_CALL_BACKOFF,
} from '../../local/emulators/stream-retry-policy';

const NOW = Date.parse('2026-01-02T03:04:05.000Z');
const record = (seq: number, ageSeconds = 0): PolicyRecord => ({
  dynamodb: {
    SequenceNumber: String(seq),
    ApproximateCreationDateTime: new Date(NOW - ageSeconds * 1000),
  },
});
const records = (n: number) => Array.from({ length: n }, (_, i) => record(i + 1));
const seqs = (rs: readonly PolicyRecord[]) => rs.map((r) => Number(r.dynamodb?.SequenceNumber));

const LAMBDA_DEFAULTS: RetrySettings = {
  maxRetries: -1,
  bisectOnError: false,
  maxRecordAgeSeconds: -1,
  pollIntervalMs: 250,
};
const ok: Delivery = { ok: true, requestId: 'req-ok' };
const threw = (failedFrom = 0): Failed => ({
  ok: false,
  requestId: 'req-threw',
  kind: 'error',
  failedFrom,
  error: 'boom',
});
const answered = (failedFrom: number): Failed => ({
  ok: false,
  requestId: 'req-partial',
  kind: 'response',
  failedFrom,
  error: 'batchItemFailures: 1',
});

/** given(batch, settings).when(outcome) -> the step after the invocation. */
const given = (
  pending: readonly PolicyRecord[],
  settings: Partial<RetrySettings> = {},
  state: Partial<BatchState<PolicyRecord>> = {},
) => {
  const batch = { pending, attempts: 0, ...state };
  const all = { ...LAMBDA_DEFAULTS, ...settings };
  return {
    when: (outcome: Delivery) => afterInvoke(batch, outcome, all),
    before: (now = NOW) => beforeInvoke(batch, all, now),
  };
};

describe('reading the answer (ReportBatchItemFailures)', () => {
  const batch = records(5);
  test('an answer without failures accepts the whole batch', () =>
    expect(responseOutcome(batch, [], 'r')).toEqual({ ok: true, requestId: 'r' }));
  test('a named record fails from itself on: those before it are accepted', () =>
    expect(responseOutcome(batch, [{ itemIdentifier: '3' }], 'r')).toMatchObject({
      ok: false,
      kind: 'response',
      failedFrom: 2,
    }));
  test('several named records fail from the lowest', () =>
    expect(
      responseOutcome(batch, [{ itemIdentifier: '4' }, { itemIdentifier: '2' }], 'r'),
    ).toMatchObject({ failedFrom: 1, error: 'batchItemFailures: 2' }));
  test('an identifier naming no record of the batch fails the whole batch', () =>
    expect(
      responseOutcome(batch, [{ itemIdentifier: '4' }, { itemIdentifier: 'nope' }], 'r'),
    ).toMatchObject({ ok: false, failedFrom: 0 }));
  test('an empty identifier fails the whole batch', () =>
    expect(responseOutcome(batch, [{ itemIdentifier: '' }, {}], 'r')).toMatchObject({
      failedFrom: 0,
    }));
});

describe('before an invocation (maxRecordAgeSeconds)', () => {
  test('an empty batch is done', () => expect(given([]).before()).toEqual({ kind: 'done' }));
  test('without an age limit even an old batch is invoked', () => {
    const old = [record(1, 86_400), record(2, 86_400)];
    expect(given(old).before()).toEqual({ kind: 'invoke', records: old });
  });
  test('records past the age at the head are expired, the rest kept for the invocation', () => {
    const step = given([record(1, 120), record(2, 61), record(3, 10)], {
      maxRecordAgeSeconds: 60,
    }).before();
    expect(step.kind).toBe('expire');
    if (step.kind !== 'expire') return;
    expect(seqs(step.records)).toEqual([1, 2]);
    expect(seqs(step.next.pending)).toEqual([3]);
  });
  test('a record exactly at the age is still delivered', () =>
    expect(given([record(1, 60)], { maxRecordAgeSeconds: 60 }).before().kind).toBe('invoke'));
  test('a batch entirely past the age is expired whole', () => {
    const step = given([record(1, 90), record(2, 80)], { maxRecordAgeSeconds: 60 }).before();
    expect(step).toMatchObject({ kind: 'expire', next: { pending: [] } });
  });
  test('only the head is checked: an old record behind a fresh one is delivered with it', () =>
    expect(given([record(1, 10), record(2, 90)], { maxRecordAgeSeconds: 60 }).before().kind).toBe(
      'invoke',
    ));
  test('a record without a creation time counts as fresh', () =>
    expect(given([{ dynamodb: {} }], { maxRecordAgeSeconds: 0 }).before().kind).toBe('invoke'));
  test('expiring keeps the failures so far (the on-failure record counts them)', () => {
    const last = threw();
    const step = given(
      [record(1, 90), record(2)],
      { maxRecordAgeSeconds: 60 },
      {
        attempts: 3,
        last,
      },
    ).before();
    expect(step).toMatchObject({ kind: 'expire', next: { attempts: 3, last } });
  });
});

describe('after an invocation', () => {
  test('an accepted batch is delivered whole', () =>
    expect(given(records(4)).when(ok)).toEqual({ kind: 'delivered', delivered: 4 }));

  test('a thrown error retries the whole batch after pollIntervalMs', () =>
    expect(given(records(3)).when(threw())).toMatchObject({
      kind: 'retry',
      delivered: 0,
      next: { pending: records(3), attempts: 1, last: threw() },
      delayMs: 250,
    }));

  test('a partial answer delivers the records before the failed one and retries the rest', () => {
    const step = given(records(5)).when(answered(2));
    expect(step).toMatchObject({ kind: 'retry', delivered: 2, next: { attempts: 1 } });
    if (step.kind === 'retry') expect(seqs(step.next.pending)).toEqual([3, 4, 5]);
  });

  test('retry waits double from pollIntervalMs and stop at 5 s', () =>
    expect(
      [0, 1, 2, 3, 4, 5].map((attempts) => {
        const step = given(records(1), { pollIntervalMs: 400 }, { attempts }).when(threw());
        return step.kind === 'retry' ? step.delayMs : undefined;
      }),
    ).toEqual([400, 800, 1600, 3200, 5000, 5000]));

  test('unbounded retries (-1, the default) never give up', () =>
    expect(given(records(1), {}, { attempts: 10_000 }).when(threw()).kind).toBe('retry'));

  test('maxRetries 0: the first failure sends the records to the on-failure destination', () =>
    expect(given(records(2), { maxRetries: 0 }).when(threw())).toMatchObject({
      kind: 'exhausted',
      records: records(2),
      attempts: 1,
    }));

  test('maxRetries 2: the third failure exhausts them, counting every invocation', () => {
    expect(given(records(1), { maxRetries: 2 }, { attempts: 1 }).when(threw()).kind).toBe('retry');
    expect(given(records(1), { maxRetries: 2 }, { attempts: 2 }).when(threw())).toMatchObject({
      kind: 'exhausted',
      attempts: 3,
      last: threw(),
    });
  });

  test('exhausted after a partial answer: only the remainder goes, the rest is delivered', () => {
    const step = given(records(4), { maxRetries: 0 }).when(answered(1));
    expect(step).toMatchObject({ kind: 'exhausted', delivered: 1 });
    if (step.kind === 'exhausted') expect(seqs(step.records)).toEqual([2, 3, 4]);
  });

  test('bisect on error splits a thrown batch in two, the first half the larger', () => {
    const step = given(records(5), { bisectOnError: true }).when(threw());
    expect(step.kind).toBe('bisect');
    if (step.kind === 'bisect')
      expect(step.halves.map(seqs)).toEqual([
        [1, 2, 3],
        [4, 5],
      ]);
  });

  test('a split is not a retry: both halves start with the failures so far', () =>
    expect(
      given(records(4), { bisectOnError: true, maxRetries: 0 }, { attempts: 2 }).when(threw()),
    ).toMatchObject({ kind: 'bisect', attempts: 2, error: 'boom' }));

  test('bisect on error does not split a partial answer: the remainder is retried whole', () => {
    const step = given(records(8), { bisectOnError: true }).when(answered(3));
    expect(step).toMatchObject({ kind: 'retry', delivered: 3 });
    if (step.kind === 'retry') expect(seqs(step.next.pending)).toEqual([4, 5, 6, 7, 8]);
  });

  test('bisect on error retries a single failing record (nothing left to split)', () =>
    expect(given(records(1), { bisectOnError: true }).when(threw())).toMatchObject({
      kind: 'retry',
      next: { attempts: 1 },
    }));
});

describe('the on-failure invocation record', () => {
  const base = {
    shardId: 'shardId-1',
    streamArn: 'arn:aws:dynamodb:local:000000000000:table/t/stream/x',
    functionName: 'projector',
    records: [record(7, 3.25), record(9, 1.5)],
    lambdaRecords: ['r7', 'r9'],
    requestId: 'fresh-id',
    timestamp: '2026-01-02T03:04:05.000Z',
  };

  test('after a thrown error it carries the invocation, functionError Unhandled and the error', () =>
    expect(
      onFailureRecord({
        ...base,
        condition: 'RetryAttemptsExhausted',
        invokeCount: 3,
        last: threw(),
      }),
    ).toEqual({
      requestContext: {
        requestId: 'req-threw',
        functionArn: 'arn:aws:lambda:local:000000000000:function:projector',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: base.timestamp,
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: '7',
        endSequenceNumber: '9',
        approximateArrivalOfFirstRecord: '2026-01-02T03:04:01Z',
        approximateArrivalOfLastRecord: '2026-01-02T03:04:03Z',
        batchSize: 2,
        streamArn: base.streamArn,
      },
      errorMessage: 'boom',
      records: ['r7', 'r9'],
    }));

  test('after a partial answer the invocation succeeded: no functionError', () => {
    const failure = onFailureRecord({
      ...base,
      condition: 'RetryAttemptsExhausted',
      invokeCount: 1,
      last: answered(0),
    });
    expect(failure.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
  });

  test('records that expired before any invocation have no response and a new request id', () => {
    const failure = onFailureRecord({
      ...base,
      condition: 'RecordAgeExceeded',
      invokeCount: 0,
      last: undefined,
    });
    expect(failure.requestContext).toMatchObject({
      requestId: 'fresh-id',
      condition: 'RecordAgeExceeded',
    });
    expect(failure).not.toHaveProperty('responseContext');
    expect(failure).not.toHaveProperty('errorMessage');
  });
});

describe("the poller's waits give what its own formulas gave before the merge", () => {
  const attempts = [1, 2, 3, 5, 7, 20, 10_000];
  test('Streams calls and readers: random * min(5000, 100 * 2^attempt)', () => {
    for (const n of attempts)
      for (const r of [0, 0.3, 0.999])
        expect(backoffDelay(n, STREAM_CALL_BACKOFF, () => r)).toBe(
          Math.round(r * Math.min(5000, 100 * 2 ** Math.min(n, 16))),
        );
  });
  test('the on-failure file: min(5000, 100 * 2^attempt)', () => {
    for (const n of attempts)
      expect(backoffDelay(n, FAILURE_FILE_BACKOFF)).toBe(Math.min(5000, 100 * 2 ** n));
  });
  test('a failed batch: min(5000, pollIntervalMs * 2^(attempts - 1))', () => {
    for (const pollIntervalMs of [1, 250, 60_000])
      for (const n of attempts)
        expect(backoffDelay(n, batchRetryBackoff({ pollIntervalMs }))).toBe(
          Math.min(5000, pollIntervalMs * 2 ** (n - 1)),
        );
  });
});
