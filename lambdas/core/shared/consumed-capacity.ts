/**
 * What every DynamoDB call costs, in read and write request units, per table: an AWS SDK v3
 * middleware asks each operation for its consumed capacity (`ReturnConsumedCapacity: 'TOTAL'`)
 * and adds it to a process-wide meter. The bench reads the meter of each stack process to report
 * units and dollars per command (docs/benchmark.md, "Cost and CPU per command").
 *
 * DynamoDB reports the units; where DynamoDB Local reports them wrongly they are computed from
 * the request by AWS's rules (docs/decisions/capacity-metered-per-call.md):
 * - TransactWriteItems: Local counts each distinct per-item size once per table and leaves out
 *   ConditionChecks (two 1 KB Puts on one table: 2 units, AWS bills 4). Computed: 2 units per
 *   1 KB of every item, ConditionCheck included; the larger of that and Local's figure per table.
 * - A failed conditional write reports nothing (on AWS too) but is billed: computed from the item.
 *
 * AWS-adapter code (it knows the SDK's middleware and wire shapes); core ports never import it.
 */
import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Units consumed on one table by one kind of operation. */
export interface TableUsage {
  readonly calls: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Calls whose units were computed from the request, not taken from DynamoDB's answer. */
  readonly computedCalls: number;
  /** Calls that failed (their units counted when DynamoDB bills them: failed conditions). */
  readonly failedCalls: number;
}

/** table -> operation (`PutItem`, `Query`...) -> usage. Plain data: it crosses process boundaries. */
export type CapacitySnapshot = Record<string, Record<string, TableUsage>>;

const EMPTY: TableUsage = {
  calls: 0,
  readUnits: 0,
  writeUnits: 0,
  computedCalls: 0,
  failedCalls: 0,
};

/** Accumulates units per table and operation; `snapshot()` is a copy, `since()` a difference. */
export class CapacityMeter {
  private readonly tables = new Map<string, Map<string, TableUsage>>();
  private readonly listeners = new Set<(table: string, operation: string) => void>();

  /**
   * Calls `listener` after each call recorded, with its table and operation; returns the
   * unsubscribe. The local runtime's fast stream pollers wake on the writes of their process.
   */
  onRecord(listener: (table: string, operation: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(
    table: string,
    operation: string,
    units: { readUnits?: number; writeUnits?: number },
    how: { computed?: boolean; failed?: boolean; call?: boolean } = {},
  ): void {
    const byOperation = this.tables.get(table) ?? new Map<string, TableUsage>();
    this.tables.set(table, byOperation);
    const before = byOperation.get(operation) ?? EMPTY;
    const call = how.call === false ? 0 : 1;
    byOperation.set(operation, {
      calls: before.calls + call,
      readUnits: before.readUnits + (units.readUnits ?? 0),
      writeUnits: before.writeUnits + (units.writeUnits ?? 0),
      computedCalls: before.computedCalls + (how.computed ? call : 0),
      failedCalls: before.failedCalls + (how.failed ? call : 0),
    });
    for (const listener of this.listeners) listener(table, operation);
  }

  snapshot(): CapacitySnapshot {
    return Object.fromEntries(
      [...this.tables].map(([table, ops]) => [table, Object.fromEntries(ops)]),
    );
  }

  reset(): void {
    this.tables.clear();
  }
}

/** `a` plus `sign` times `b`, field by field. */
const usageSum = (a: TableUsage, b: TableUsage, sign: 1 | -1): TableUsage => ({
  calls: a.calls + sign * b.calls,
  readUnits: a.readUnits + sign * b.readUnits,
  writeUnits: a.writeUnits + sign * b.writeUnits,
  computedCalls: a.computedCalls + sign * b.computedCalls,
  failedCalls: a.failedCalls + sign * b.failedCalls,
});

/** `after` less `before`, operation by operation (what was consumed in between). */
export const capacitySince = (
  after: CapacitySnapshot,
  before: CapacitySnapshot,
): CapacitySnapshot => {
  const out: CapacitySnapshot = {};
  for (const [table, ops] of Object.entries(after)) {
    for (const [operation, usage] of Object.entries(ops)) {
      const diff = usageSum(usage, before[table]?.[operation] ?? EMPTY, -1);
      if (diff.calls === 0 && diff.readUnits === 0 && diff.writeUnits === 0) continue;
      (out[table] ??= {})[operation] = diff;
    }
  }
  return out;
};

/** `a` plus `b`, operation by operation (two blocks' consumption as one). */
export const capacityPlus = (a: CapacitySnapshot, b: CapacitySnapshot): CapacitySnapshot => {
  const out: CapacitySnapshot = {};
  for (const snapshot of [a, b]) {
    for (const [table, ops] of Object.entries(snapshot)) {
      for (const [operation, usage] of Object.entries(ops)) {
        (out[table] ??= {})[operation] = usageSum(out[table]?.[operation] ?? EMPTY, usage, 1);
      }
    }
  }
  return out;
};

/** Read and write units of a snapshot, all tables and operations. */
export const capacityTotals = (
  snapshot: CapacitySnapshot,
): { readUnits: number; writeUnits: number; calls: number } => {
  let readUnits = 0;
  let writeUnits = 0;
  let calls = 0;
  for (const ops of Object.values(snapshot)) {
    for (const usage of Object.values(ops)) {
      readUnits += usage.readUnits;
      writeUnits += usage.writeUnits;
      calls += usage.calls;
    }
  }
  return { readUnits, writeUnits, calls };
};

// One meter per process, even if this module is loaded twice (two bundles, tsx and a test).
const METER_KEY = Symbol.for('redux-backend.capacity-meter');
const globalMeters = globalThis as { [METER_KEY]?: CapacityMeter };

/** The meter every metered client of this process adds to. */
export const processCapacityMeter = (): CapacityMeter =>
  (globalMeters[METER_KEY] ??= new CapacityMeter());

// --- Item sizes and units by AWS's rules ------------------------------------------------------
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** Bytes of a number: 1 per two significant digits, plus 1 (leading and trailing zeros trimmed). */
export const numberSize = (text: string): number => {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
};

/** Bytes of an attribute value (without its name). */
export const attributeValueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  // List and Map: 3 bytes, plus 1 per element; a map's keys count like attribute names.
  if (value.L !== undefined) return 3 + value.L.reduce((s, v) => s + 1 + attributeValueSize(v), 0);
  if (value.M !== undefined) {
    return (
      3 + Object.entries(value.M).reduce((s, [k, v]) => s + 1 + utf8(k) + attributeValueSize(v), 0)
    );
  }
  return 0;
};

/** Bytes of an item: its attribute names and values. */
export const itemSize = (item: Record<string, AttributeValue>): number =>
  Object.entries(item).reduce(
    (sum, [name, value]) => sum + utf8(name) + attributeValueSize(value),
    0,
  );

const KB = 1024;

/** Write units of a standard write of `bytes`: 1 per KB, rounded up, at least 1. */
export const writeUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));

/** Read units of a read of `bytes`: 1 per 4 KB rounded up (at least 1), half when eventual. */
export const readUnitsOf = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

/** Transactional reads and writes cost twice the standard units per item. */
export const TRANSACTION_FACTOR = 2;

interface UpdateLike {
  readonly Key?: Record<string, AttributeValue>;
  readonly UpdateExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/**
 * The size of an item after an update, from the request alone: its key plus each attribute the
 * SET clause assigns (the largest value the assignment names). Exact when the update sets every
 * attribute (the projections' view items); a lower bound when it changes part of an item.
 */
export const updatedItemSizeEstimate = (update: UpdateLike): number => {
  const key = itemSize(update.Key ?? {});
  const set = /\bSET\b([\s\S]*?)(?=\b(?:REMOVE|ADD|DELETE)\b|$)/i.exec(
    update.UpdateExpression ?? '',
  );
  if (!set?.[1]) return key;
  const names = update.ExpressionAttributeNames ?? {};
  const values = update.ExpressionAttributeValues ?? {};
  let size = key;
  // Assignments are separated by commas outside parentheses (if_not_exists(#a, :b) has one).
  let depth = 0;
  let current = '';
  const assignments: string[] = [];
  for (const char of set[1]) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      assignments.push(current);
      current = '';
    } else current += char;
  }
  assignments.push(current);
  for (const assignment of assignments) {
    const [target, expression = ''] = assignment.split('=', 2).map((part) => part.trim());
    if (!target) continue;
    const first = target.split(/[.[]/)[0]!;
    const name = names[first] ?? first;
    const referenced = [...expression.matchAll(/:[A-Za-z0-9_]+/g)].map((m) => values[m[0]]);
    const valueSize = Math.max(
      1,
      ...referenced.map((v) => (v === undefined ? 0 : attributeValueSize(v))),
    );
    size += utf8(name) + valueSize;
  }
  return size;
};

/** One element of a TransactWriteItems request (the wire shape). */
export interface TransactWriteElement {
  readonly Put?: { readonly TableName?: string; readonly Item?: Record<string, AttributeValue> };
  readonly Update?: UpdateLike & { readonly TableName?: string };
  readonly Delete?: { readonly TableName?: string; readonly Key?: Record<string, AttributeValue> };
  readonly ConditionCheck?: {
    readonly TableName?: string;
    readonly Key?: Record<string, AttributeValue>;
  };
}

/**
 * Write units of a TransactWriteItems per table, by AWS's rules: every item 2 units per KB (its
 * size rounded up per item, then doubled), a ConditionCheck too (billed as a write). Sizes from the
 * request: a Put's item; an Update's key and the attributes it sets; a Delete's or
 * ConditionCheck's key only (the stored item is not in the request: at least 1 KB is billed).
 */
export const transactWriteUnits = (
  items: readonly TransactWriteElement[],
): Record<string, number> => {
  const units: Record<string, number> = {};
  for (const element of items) {
    const [table, bytes] = element.Put
      ? [element.Put.TableName, itemSize(element.Put.Item ?? {})]
      : element.Update
        ? [element.Update.TableName, updatedItemSizeEstimate(element.Update)]
        : element.Delete
          ? [element.Delete.TableName, itemSize(element.Delete.Key ?? {})]
          : [element.ConditionCheck?.TableName, itemSize(element.ConditionCheck?.Key ?? {})];
    if (table === undefined) continue;
    units[table] = (units[table] ?? 0) + TRANSACTION_FACTOR * writeUnitsOf(bytes);
  }
  return units;
};

// --- The middleware -----------------------------------------------------------------------------

/** The operations that take ReturnConsumedCapacity, and whether they read or write. */
const OPERATIONS: Record<string, 'read' | 'write' | 'statement'> = {
  GetItem: 'read',
  BatchGetItem: 'read',
  Query: 'read',
  Scan: 'read',
  TransactGetItems: 'read',
  PutItem: 'write',
  UpdateItem: 'write',
  DeleteItem: 'write',
  BatchWriteItem: 'write',
  TransactWriteItems: 'write',
  ExecuteStatement: 'statement',
  BatchExecuteStatement: 'statement',
  ExecuteTransaction: 'statement',
};

const operationOf = (commandName: string | undefined) => commandName?.replace(/Command$/, '');

/** Whether an operation (`PutItem`, `Query`...) may write items (PartiQL statements may). */
export const mayWrite = (operation: string): boolean => {
  const kind = OPERATIONS[operation];
  return kind === 'write' || kind === 'statement';
};

export interface MeterOptions {
  /** Where the units go (default: the process's meter). */
  readonly meter?: CapacityMeter;
  /**
   * The client talks to DynamoDB Local: compute what it reports wrongly (TransactWriteItems) from
   * the request. Against AWS, its own figures are taken as they are.
   */
  readonly dynamoDbLocal?: boolean;
}

type Input = Record<string, unknown>;

/** Adds the answer's ConsumedCapacity to the meter (corrected where Local is wrong). */
const recordAnswer = (
  meter: CapacityMeter,
  operation: string,
  input: Input,
  consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
  dynamoDbLocal: boolean,
) => {
  const kind = OPERATIONS[operation] ?? 'read';
  const isWrite = (c: ConsumedCapacity) =>
    kind === 'write' ||
    (kind === 'statement' && (c.WriteCapacityUnits ?? 0) > 0 && !(c.ReadCapacityUnits ?? 0));
  const reported = new Map<string, ConsumedCapacity>();
  for (const c of [consumed ?? []].flat()) if (c.TableName) reported.set(c.TableName, c);

  if (operation === 'TransactWriteItems' && dynamoDbLocal) {
    const computed = transactWriteUnits((input.TransactItems ?? []) as TransactWriteElement[]);
    const tables = new Set([...Object.keys(computed), ...reported.keys()]);
    for (const table of tables) {
      const local = reported.get(table)?.CapacityUnits ?? 0;
      const mine = computed[table] ?? 0;
      meter.record(
        table,
        operation,
        { writeUnits: Math.max(local, mine) },
        { computed: mine > local },
      );
    }
    return;
  }
  for (const [table, c] of reported) {
    const total = c.CapacityUnits ?? 0;
    const readUnits = c.ReadCapacityUnits ?? (isWrite(c) ? 0 : total);
    const writeUnits = c.WriteCapacityUnits ?? (isWrite(c) ? total : 0);
    meter.record(table, operation, { readUnits, writeUnits });
  }
};

/** A failed call: counted; a failed condition of a single-item write is billed (computed). */
const recordFailure = (meter: CapacityMeter, operation: string, input: Input, error: unknown) => {
  const table = typeof input.TableName === 'string' ? input.TableName : undefined;
  const name = (error as { name?: string } | undefined)?.name;
  if (table === undefined) {
    // Batch and transaction calls name their tables inside: counted per table, no units (a
    // cancelled transaction reports none; docs/decisions/capacity-metered-per-call.md).
    const tables =
      operation === 'TransactWriteItems'
        ? Object.keys(transactWriteUnits((input.TransactItems ?? []) as TransactWriteElement[]))
        : Object.keys((input.RequestItems ?? {}) as object);
    for (const t of tables) meter.record(t, operation, {}, { failed: true });
    return;
  }
  if (name === 'ConditionalCheckFailedException') {
    const bytes =
      operation === 'PutItem'
        ? itemSize((input.Item ?? {}) as Record<string, AttributeValue>)
        : operation === 'UpdateItem'
          ? updatedItemSizeEstimate(input as UpdateLike)
          : itemSize((input.Key ?? {}) as Record<string, AttributeValue>);
    meter.record(
      table,
      operation,
      { writeUnits: writeUnitsOf(bytes) },
      { computed: true, failed: true },
    );
    return;
  }
  meter.record(table, operation, {}, { failed: true });
};

type Next = (args: { input: Input }) => Promise<{ output: unknown }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;

/**
 * The request half (SDK step `initialize`, before the document client marshals the input): asks
 * for ReturnConsumedCapacity TOTAL where the operation takes it (a caller's own INDEXES or TOTAL
 * is kept).
 */
export const askForCapacity: Middleware = (next, context) => (args) => {
  const operation = operationOf(context.commandName);
  if (operation === undefined || !(operation in OPERATIONS)) return next(args);
  const asked = args.input.ReturnConsumedCapacity;
  return next(
    asked === 'TOTAL' || asked === 'INDEXES'
      ? args
      : { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } },
  );
};

/**
 * The answer half (SDK step `build`, where the input is in the wire shape item sizes are computed
 * from): records the answer's units, or the failure.
 */
export const recordCapacity =
  (meter: CapacityMeter, dynamoDbLocal: boolean): Middleware =>
  (next, context) =>
  async (args) => {
    const operation = operationOf(context.commandName);
    if (operation === undefined || !(operation in OPERATIONS)) return next(args);
    let result: { output: unknown };
    try {
      result = await next(args);
    } catch (error) {
      recordFailure(meter, operation, args.input, error);
      throw error;
    }
    const consumed = (
      result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] } | undefined
    )?.ConsumedCapacity;
    recordAnswer(meter, operation, args.input, consumed, dynamoDbLocal);
    return result;
  };

/**
 * Meters every call of `client` (a DynamoDBClient; a document client made from it shares its
 * middleware stack) into `options.meter`, by default the process's meter. Returns the client.
 */
export const meterConsumedCapacity = <C extends Pick<DynamoDBClient, 'middlewareStack'>>(
  client: C,
  options: MeterOptions = {},
): C => {
  const meter = options.meter ?? processCapacityMeter();
  // The SDK's middleware types are generic over every command's input and output; these two
  // only read and extend the input and read the output's ConsumedCapacity.
  client.middlewareStack.add(askForCapacity as never, {
    step: 'initialize',
    name: 'consumedCapacityRequest',
    override: true,
  });
  client.middlewareStack.add(recordCapacity(meter, options.dynamoDbLocal ?? false) as never, {
    step: 'build',
    name: 'consumedCapacityMeter',
    override: true,
  });
  return client;
};
