/**
 * The capacity meter (lambdas/core/shared/consumed-capacity.ts): item sizes and units by AWS's
 * rules, the transaction units DynamoDB Local gets wrong, and the middleware's bookkeeping.
 */
import {
  askForCapacity,
  attributeValueSize,
  CapacityMeter,
  capacityPlus,
  capacitySince,
  capacityTotals,
  itemSize,
  mayWrite,
  numberSize,
  processCapacityMeter,
  readUnitsOf,
  recordCapacity,
  transactWriteUnits,
  updatedItemSizeEstimate,
  writeUnitsOf,
} from '../../lambdas/core/shared/consumed-capacity';

describe('item sizes (AWS: attribute names + values)', () => {
  test('given strings, numbers and booleans, when sized, then names and values add up', () => {
    // 'pk' 2 + 'order-1' 7; 'version' 7 + 12 → 2 bytes + 1; 'ok' 2 + 1
    expect(itemSize({ pk: { S: 'order-1' }, version: { N: '12' }, ok: { BOOL: true } })).toBe(
      2 + 7 + 7 + 2 + 2 + 1,
    );
  });

  test('given numbers, when sized, then 1 byte per two significant digits plus 1', () => {
    expect(numberSize('1')).toBe(2);
    expect(numberSize('12345')).toBe(4);
    expect(numberSize('1200')).toBe(2); // trailing zeros trimmed
    expect(numberSize('-0.0015')).toBe(2); // sign, point and leading zeros trimmed
  });

  test('given a map and a list, when sized, then 3 bytes each plus 1 per element', () => {
    expect(attributeValueSize({ M: { a: { S: 'xy' } } })).toBe(3 + 1 + 1 + 2);
    expect(attributeValueSize({ L: [{ S: 'x' }, { NULL: true }] })).toBe(3 + (1 + 1) + (1 + 1));
  });

  test('given multi-byte text, when sized, then its UTF-8 bytes count', () => {
    expect(attributeValueSize({ S: 'é€' })).toBe(5);
  });
});

describe('units (AWS: 1 KB per write unit, 4 KB per read unit)', () => {
  test('given sizes around the boundaries, when converted, then rounded up per item', () => {
    expect(writeUnitsOf(10)).toBe(1);
    expect(writeUnitsOf(1024)).toBe(1);
    expect(writeUnitsOf(1025)).toBe(2);
    expect(readUnitsOf(4096, true)).toBe(1);
    expect(readUnitsOf(4097, true)).toBe(2);
    expect(readUnitsOf(100, false)).toBe(0.5);
    expect(readUnitsOf(0, true)).toBe(1);
  });
});

describe('transactWriteUnits', () => {
  const key = { aggregateId: { S: 'o-1' }, version: { N: '2' } };

  test('given two small Puts on one table, when computed, then 2 units each (Local says 2)', () => {
    expect(
      transactWriteUnits([
        { Put: { TableName: 'events', Item: key } },
        { Put: { TableName: 'events', Item: { ...key, version: { N: '3' } } } },
      ]),
    ).toEqual({ events: 4 });
  });

  test('given a Put, a ConditionCheck and an Update, when computed, then every item is billed twice per KB', () => {
    expect(
      transactWriteUnits([
        { Put: { TableName: 'events', Item: { ...key, payload: { S: 'x'.repeat(1500) } } } },
        { ConditionCheck: { TableName: 'events', Key: key } },
        {
          Update: {
            TableName: 'rows',
            Key: { key: { S: 'order#o-1' } },
            UpdateExpression: 'SET #v = :view, #r = if_not_exists(#r, :zero) + :one',
            ExpressionAttributeNames: { '#v': 'view', '#r': 'rev' },
            ExpressionAttributeValues: {
              ':view': { S: 'y'.repeat(1100) },
              ':zero': { N: '0' },
              ':one': { N: '1' },
            },
          },
        },
      ]),
    ).toEqual({ events: 2 * 2 + 2 * 1, rows: 2 * 2 });
  });

  test('given an update, when its size is estimated, then the key and each attribute it sets count once', () => {
    expect(
      updatedItemSizeEstimate({
        Key: { key: { S: 'k' } },
        UpdateExpression: 'SET #a = :a, #r = if_not_exists(#r, :zero) + :one REMOVE #x',
        ExpressionAttributeNames: { '#a': 'applied', '#r': 'rev', '#x': 'old' },
        ExpressionAttributeValues: { ':a': { S: 'abc' }, ':zero': { N: '0' }, ':one': { N: '1' } },
      }),
    ).toBe(3 + 1 + (7 + 3) + (3 + 2));
  });
});

describe('the middleware', () => {
  const context = (commandName: string) => ({ commandName });

  test('given an operation that takes it, when sent, then ReturnConsumedCapacity TOTAL is asked for', async () => {
    const seen: Record<string, unknown>[] = [];
    const next = (args: { input: Record<string, unknown> }) => {
      seen.push(args.input);
      return Promise.resolve({ output: {} });
    };
    await askForCapacity(next, context('PutItemCommand'))({ input: { TableName: 't' } });
    await askForCapacity(
      next,
      context('QueryCommand'),
    )({ input: { ReturnConsumedCapacity: 'INDEXES' } });
    await askForCapacity(next, context('DescribeTableCommand'))({ input: { TableName: 't' } });
    expect(seen.map((input) => input.ReturnConsumedCapacity)).toEqual([
      'TOTAL',
      'INDEXES',
      undefined,
    ]);
  });

  test('given answers, when recorded, then reads and writes are kept per table and operation', async () => {
    const meter = new CapacityMeter();
    const answer = (output: unknown) => () => Promise.resolve({ output });
    const record = recordCapacity(meter, false);
    await record(
      answer({ ConsumedCapacity: { TableName: 'events', CapacityUnits: 1 } }),
      context('QueryCommand'),
    )({ input: {} });
    await record(
      answer({ ConsumedCapacity: { TableName: 'events', CapacityUnits: 2 } }),
      context('PutItemCommand'),
    )({ input: {} });
    await record(
      answer({ ConsumedCapacity: { TableName: 'events', CapacityUnits: 2 } }),
      context('PutItemCommand'),
    )({ input: {} });
    const snapshot = meter.snapshot();
    expect(snapshot.events?.Query).toMatchObject({ calls: 1, readUnits: 1, writeUnits: 0 });
    expect(snapshot.events?.PutItem).toMatchObject({ calls: 2, readUnits: 0, writeUnits: 4 });
    expect(capacityTotals(snapshot)).toEqual({ readUnits: 1, writeUnits: 4, calls: 3 });
  });

  test('given DynamoDB Local under-reporting a transaction, when recorded, then the computed units count', async () => {
    const meter = new CapacityMeter();
    const input = {
      TransactItems: [
        { Put: { TableName: 'events', Item: { id: { S: 'a' } } } },
        { ConditionCheck: { TableName: 'events', Key: { id: { S: 'b' } } } },
      ],
    };
    const local = () =>
      Promise.resolve({
        output: { ConsumedCapacity: [{ TableName: 'events', CapacityUnits: 2 }] },
      });
    await recordCapacity(meter, true)(local, context('TransactWriteItemsCommand'))({ input });
    expect(meter.snapshot().events?.TransactWriteItems).toMatchObject({
      writeUnits: 4,
      computedCalls: 1,
    });
    // Against AWS its own figure is taken.
    const aws = new CapacityMeter();
    await recordCapacity(aws, false)(local, context('TransactWriteItemsCommand'))({ input });
    expect(aws.snapshot().events?.TransactWriteItems).toMatchObject({
      writeUnits: 2,
      computedCalls: 0,
    });
  });

  test('given a failed condition, when recorded, then the write is billed from the item and the error goes on', async () => {
    const meter = new CapacityMeter();
    const failing = () =>
      Promise.reject(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    await expect(
      recordCapacity(meter, true)(failing, context('PutItemCommand'))({
        input: { TableName: 'events', Item: { id: { S: 'x'.repeat(2000) } } },
      }),
    ).rejects.toThrow('no');
    expect(meter.snapshot().events?.PutItem).toMatchObject({
      calls: 1,
      writeUnits: 2,
      failedCalls: 1,
    });
  });
});

describe('capacitySince', () => {
  test('given two snapshots, when diffed, then only what was consumed in between remains', () => {
    const meter = new CapacityMeter();
    meter.record('events', 'PutItem', { writeUnits: 1 });
    meter.record('rows', 'GetItem', { readUnits: 1 });
    const before = meter.snapshot();
    meter.record('events', 'PutItem', { writeUnits: 2 });
    expect(capacitySince(meter.snapshot(), before)).toEqual({
      events: {
        PutItem: { calls: 1, readUnits: 0, writeUnits: 2, computedCalls: 0, failedCalls: 0 },
      },
    });
  });
});

describe('processCapacityMeter', () => {
  test('given the module loaded twice, when the process meter is asked for, then it is one meter', () => {
    const again = jest.requireActual<typeof import('../../lambdas/core/shared/consumed-capacity')>(
      '../../lambdas/core/shared/consumed-capacity',
    );
    jest.isolateModules(() => {
      const isolated = jest.requireActual<
        typeof import('../../lambdas/core/shared/consumed-capacity')
      >('../../lambdas/core/shared/consumed-capacity');
      expect(isolated.processCapacityMeter()).toBe(processCapacityMeter());
    });
    expect(again.processCapacityMeter()).toBe(processCapacityMeter());
  });
});

describe('onRecord', () => {
  test('given a listener, when calls are recorded, then it hears each table and operation until it unsubscribes', () => {
    const meter = new CapacityMeter();
    const heard: string[] = [];
    const unsubscribe = meter.onRecord((table, operation) => heard.push(`${table} ${operation}`));
    meter.record('events', 'PutItem', { writeUnits: 1 });
    meter.record('rows', 'Query', { readUnits: 0.5 });
    unsubscribe();
    meter.record('events', 'PutItem', { writeUnits: 1 });
    expect(heard).toEqual(['events PutItem', 'rows Query']);
  });

  test('given operations, when asked whether they may write, then writes and statements may, reads not', () => {
    expect(['PutItem', 'TransactWriteItems', 'ExecuteStatement'].map(mayWrite)).toEqual([
      true,
      true,
      true,
    ]);
    expect(['GetItem', 'Query', 'DescribeStream'].map(mayWrite)).toEqual([false, false, false]);
  });
});

describe('capacityPlus', () => {
  test('given two blocks, when added, then each operation of each table sums, the others kept', () => {
    const a = new CapacityMeter();
    a.record('events', 'PutItem', { writeUnits: 1 });
    a.record('rows', 'GetItem', { readUnits: 0.5 });
    const b = new CapacityMeter();
    b.record('events', 'PutItem', { writeUnits: 2 }, { computed: true });
    b.record('events', 'Query', { readUnits: 1 }, { failed: true });
    expect(capacityPlus(a.snapshot(), b.snapshot())).toEqual({
      events: {
        PutItem: { calls: 2, readUnits: 0, writeUnits: 3, computedCalls: 1, failedCalls: 0 },
        Query: { calls: 1, readUnits: 1, writeUnits: 0, computedCalls: 0, failedCalls: 1 },
      },
      rows: {
        GetItem: { calls: 1, readUnits: 0.5, writeUnits: 0, computedCalls: 0, failedCalls: 0 },
      },
    });
    expect(capacityPlus({}, a.snapshot())).toEqual(a.snapshot());
  });
});
