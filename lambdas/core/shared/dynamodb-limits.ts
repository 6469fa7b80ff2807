/**
 * DynamoDB facts the adapters check before they call DynamoDB, and the SDK errors they turn into
 * the API's own: item size by DynamoDB's documented rules, and throttling; and how long a call
 * may stay silent.
 */
import type { BackoffPolicy } from './backoff';
import { ItemTooLargeError, ThrottledError } from './errors';

/** Waits before asking again for a batch call's unprocessed keys or items: 40 ms doubling to 1 s. */
export const UNPROCESSED_ITEMS_BACKOFF: BackoffPolicy = { baseMs: 40, maxMs: 1000, jitter: 0 };

/**
 * How the DynamoDB clients of the functions and of the local stream poller give up on a silent
 * call (the SDK's `requestHandler` options): no connection within 2 s, or no byte for 10 s on a
 * sent request, and the call fails with a `TimeoutError`, which the SDK retries. Without them a
 * call that is never answered (a socket that broke while a Lambda instance was frozen, a stuck
 * DynamoDB Local) waits for the SDK's service default of 5 minutes, or for ever where there is
 * none (the Streams client), holding what waits on it: an aggregate's snapshot write, a
 * poller's shard. Not `requestTimeout`: since `@smithy/node-http-handler` 4 it only logs a
 * warning unless `throwOnRequestTimeout` is set (docs/decisions/dynamodb-call-timeouts.md).
 */
export const DYNAMODB_TIMEOUTS = { connectionTimeout: 2_000, socketTimeout: 10_000 } as const;

/** DynamoDB's item size limit (400 KB, counted with attribute names). */
export const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Size of a value as DynamoDB counts it ("DynamoDB item sizes and formats"): strings and binary
 * by their bytes; numbers 1 byte per two significant digits + 1; null and booleans 1; lists and
 * maps 3 bytes + 1 per element + their elements (map keys included).
 */
const valueBytes = (value: unknown): number => {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const digits = String(value)
      .replace(/^-/, '')
      .replace(/e.*$/i, '')
      .replace('.', '')
      .replace(/^0+/, '')
      .replace(/0+$/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    return [...(value as Set<unknown>)].reduce<number>((n, v) => n + valueBytes(v), 0);
  }
  if (Array.isArray(value)) return 3 + value.reduce<number>((n, v) => n + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .reduce((n, [k, v]) => n + 1 + utf8(k) + valueBytes(v), 0)
    );
  }
  return utf8(String(value));
};

/** An item's size: each top-level attribute's name plus its value (undefined ones are dropped). */
export const itemBytes = (item: Record<string, unknown>): number =>
  Object.entries(item)
    .filter(([, v]) => v !== undefined)
    .reduce((n, [k, v]) => n + utf8(k) + valueBytes(v), 0);

/** Throws ItemTooLargeError when the item would be refused by DynamoDB for its size. */
export const assertItemFits = (
  what: string,
  item: Record<string, unknown>,
  details: Record<string, unknown> = {},
): void => {
  const bytes = itemBytes(item);
  if (bytes > MAX_ITEM_BYTES) throw new ItemTooLargeError(what, bytes, MAX_ITEM_BYTES, details);
};

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
const THROTTLING_REASONS = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/**
 * The ThrottledError for an SDK error that means "DynamoDB throttled you", else undefined.
 * By name, so this module needs no SDK import: the SDK's exception classes set `name`.
 */
export const throttlingOf = (error: unknown): ThrottledError | undefined => {
  if (!(error instanceof Error)) return undefined;
  if (THROTTLING_ERRORS.has(error.name)) return new ThrottledError(error.name);
  if (error.name === 'TransactionCanceledException') {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    const code = reasons?.find((r) => r.Code && THROTTLING_REASONS.has(r.Code))?.Code;
    if (code) return new ThrottledError(`TransactionCanceled: ${code}`);
  }
  return undefined;
};
