/**
 * Pagination cursors. A list cursor is the position after the last row a page returned, bound to
 * the list it came from (index, partition value, filter); an events cursor is the version of the
 * last event a page returned. Anything else is `400 INVALID_CURSOR`, never a DynamoDB
 * ValidationException (a 500): a cursor is checked against the list being queried before it
 * becomes an `ExclusiveStartKey`. Why validation and not signatures:
 * docs/decisions/list-cursors-checked-not-signed.md.
 */
import { AppError } from '../shared/errors';
import type { IndexDefinition, KeyAttribute } from '../shared/schema';

/** The list a cursor belongs to: one partition of one index, optionally filtered. */
export interface ListIdentity {
  /** The table's partition key (every index key includes it: it breaks ties in the sort key). */
  readonly tableKey: KeyAttribute;
  readonly index: IndexDefinition;
  readonly partitionValue: string;
  readonly filter?: { readonly name: string; readonly value: string };
}

/** Far above any cursor this API issues (a few hundred characters); checked before decoding. */
export const MAX_CURSOR_LENGTH = 8192;
/** DynamoDB's own key size limits (UTF-8 bytes). */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;
const FORMAT = 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

type KeyValue = string | number;

const invalid = (message: string) =>
  new AppError('INVALID_CURSOR', `${message}; pass nextCursor exactly as it was returned`);

/** The attributes a cursor records besides the partition: the table key, then the sort key. */
const positionAttributes = (list: ListIdentity) =>
  [
    { attribute: list.tableKey, maxBytes: MAX_PARTITION_KEY_BYTES },
    { attribute: list.index.sortKey, maxBytes: MAX_SORT_KEY_BYTES },
  ].filter(
    ({ attribute }, i, all) => all.findIndex((a) => a.attribute.name === attribute.name) === i,
  );

const isKeyValue = (
  value: unknown,
  attribute: KeyAttribute,
  maxBytes: number,
): value is KeyValue =>
  attribute.type === 'S'
    ? typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= maxBytes
    : typeof value === 'number' && Number.isFinite(value);

/** One canonical text per (list, position): a decoded cursor must re-encode to the same text. */
const encode = (list: ListIdentity, position: Record<string, KeyValue>): string =>
  Buffer.from(
    JSON.stringify({
      v: FORMAT,
      index: list.index.indexName,
      partition: list.partitionValue,
      filter: list.filter ? { [list.filter.name]: list.filter.value } : null,
      after: Object.fromEntries(
        positionAttributes(list).map(({ attribute }) => [attribute.name, position[attribute.name]]),
      ),
    }),
  ).toString('base64url');

/**
 * The cursor that resumes right after `item` (a row of the list, or DynamoDB's
 * LastEvaluatedKey). A missing or mistyped key attribute is a bug here, not the caller's fault.
 */
export const encodeListCursor = (list: ListIdentity, item: Record<string, unknown>): string => {
  const position: Record<string, KeyValue> = {};
  for (const { attribute, maxBytes } of positionAttributes(list)) {
    const value = item[attribute.name];
    if (!isKeyValue(value, attribute, maxBytes))
      throw new Error(`Cannot make a cursor: ${attribute.name} is not a valid key value`);
    position[attribute.name] = value;
  }
  return encode(list, position);
};

/**
 * The `ExclusiveStartKey` for `cursor`, if it is one this API issued for this very list:
 * canonical base64url JSON of our format, same index, partition value and filter, and a position
 * with exactly the table key and sort key, of their types and within DynamoDB's key sizes.
 */
export const decodeListCursor = (cursor: string, list: ListIdentity): Record<string, KeyValue> => {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor))
    throw invalid('The cursor is malformed');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('The cursor is malformed');
  }
  if (!decoded || typeof decoded !== 'object' || Array.isArray(decoded))
    throw invalid('The cursor is malformed');
  const fields = decoded as Record<string, unknown>;
  if (fields.v !== FORMAT) throw invalid('The cursor is malformed or from an older version');
  const filter = list.filter ? { [list.filter.name]: list.filter.value } : null;
  if (
    fields.index !== list.index.indexName ||
    fields.partition !== list.partitionValue ||
    JSON.stringify(fields.filter) !== JSON.stringify(filter)
  ) {
    throw invalid('The cursor belongs to another list (another list, value or filter)');
  }
  const after = fields.after;
  if (!after || typeof after !== 'object' || Array.isArray(after))
    throw invalid('The cursor is malformed');
  const position: Record<string, KeyValue> = {};
  for (const { attribute, maxBytes } of positionAttributes(list)) {
    const value = (after as Record<string, unknown>)[attribute.name];
    if (!isKeyValue(value, attribute, maxBytes)) throw invalid('The cursor is malformed');
    position[attribute.name] = value;
  }
  // Extra fields, another key order, other whitespace or non-canonical base64 all differ here.
  if (encode(list, position) !== cursor) throw invalid('The cursor is malformed');
  return { ...position, [list.index.partitionKey.name]: list.partitionValue };
};

/** An events cursor: the version after which the next page starts (0 to 2^53-1). */
export const decodeVersionCursor = (cursor: string): number => {
  const version = /^\d{1,16}$/.test(cursor) ? Number(cursor) : Number.NaN;
  if (!Number.isSafeInteger(version))
    throw invalid('The events cursor must be a version number from a previous page');
  return version;
};
