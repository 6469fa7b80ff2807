/**
 * What DynamoDB Local reports as consumed capacity, beside what the meter records
 * (lambdas/core/shared/consumed-capacity.ts) and what AWS bills by its rules, for the calls the
 * stacks make: GetItem (consistent and eventual), Query, PutItem, UpdateItem, BatchWriteItem,
 * TransactWriteItems (with a ConditionCheck and an Update) and a failed conditional PutItem
 * (docs/decisions/capacity-metered-per-call.md).
 * Run: node --import tsx bench/probes/capacity-check.ts
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  CapacityMeter,
  capacityTotals,
  meterConsumedCapacity,
} from '../../lambdas/core/shared/consumed-capacity';
import { startProbeDynamoDb } from './probe-dynamodb';

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const meter = new CapacityMeter();
  meterConsumedCapacity(client, { meter, dynamoDbLocal: true });
  try {
    for (const TableName of ['probe-a', 'probe-b']) {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'N' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
    }
    const text = (kb: number) => 'x'.repeat(kb * 1024);
    const cases: [string, number, () => Promise<{ ConsumedCapacity?: unknown }>][] = [
      [
        'PutItem 10 B',
        1,
        () => doc.send(new PutCommand({ TableName: 'probe-a', Item: { pk: 'a', sk: 1 } })),
      ],
      [
        'PutItem 2.5 KB',
        3,
        () =>
          doc.send(
            new PutCommand({ TableName: 'probe-a', Item: { pk: 'a', sk: 2, d: text(2.5) } }),
          ),
      ],
      [
        'GetItem 2.5 KB consistent',
        1,
        () =>
          doc.send(
            new GetCommand({ TableName: 'probe-a', Key: { pk: 'a', sk: 2 }, ConsistentRead: true }),
          ),
      ],
      [
        'GetItem 2.5 KB eventual',
        0.5,
        () => doc.send(new GetCommand({ TableName: 'probe-a', Key: { pk: 'a', sk: 2 } })),
      ],
      [
        'GetItem missing consistent',
        1,
        () =>
          doc.send(
            new GetCommand({ TableName: 'probe-a', Key: { pk: 'a', sk: 9 }, ConsistentRead: true }),
          ),
      ],
      [
        'Query 2 items consistent',
        1,
        () =>
          doc.send(
            new QueryCommand({
              TableName: 'probe-a',
              KeyConditionExpression: 'pk = :p',
              ExpressionAttributeValues: { ':p': 'a' },
              ConsistentRead: true,
            }),
          ),
      ],
      [
        'UpdateItem 2.5 KB item',
        3,
        () =>
          doc.send(
            new UpdateCommand({
              TableName: 'probe-a',
              Key: { pk: 'a', sk: 2 },
              UpdateExpression: 'SET e = :e',
              ExpressionAttributeValues: { ':e': 1 },
            }),
          ),
      ],
      [
        'BatchWriteItem 3 items (one 2.5 KB)',
        5,
        () =>
          doc.send(
            new BatchWriteCommand({
              RequestItems: {
                'probe-a': [
                  { PutRequest: { Item: { pk: 'b', sk: 1 } } },
                  { PutRequest: { Item: { pk: 'b', sk: 2, d: text(2.5) } } },
                  { PutRequest: { Item: { pk: 'b', sk: 3 } } },
                ],
              },
            }),
          ),
      ],
      [
        'TransactWriteItems 2 Puts of 10 B',
        4,
        () =>
          doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: 'probe-a', Item: { pk: 'c', sk: 1 } } },
                { Put: { TableName: 'probe-a', Item: { pk: 'c', sk: 2 } } },
              ],
            }),
          ),
      ],
      [
        'TransactWriteItems Put + ConditionCheck',
        4,
        () =>
          doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: 'probe-a', Item: { pk: 'c', sk: 3 } } },
                {
                  ConditionCheck: {
                    TableName: 'probe-a',
                    Key: { pk: 'c', sk: 2 },
                    ConditionExpression: 'attribute_exists(sk)',
                  },
                },
              ],
            }),
          ),
      ],
      [
        'TransactWriteItems Put a + Update b',
        4,
        () =>
          doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: 'probe-a', Item: { pk: 'c', sk: 4 } } },
                {
                  Update: {
                    TableName: 'probe-b',
                    Key: { pk: 'c', sk: 1 },
                    UpdateExpression: 'SET v = :v',
                    ExpressionAttributeValues: { ':v': 'row' },
                  },
                },
              ],
            }),
          ),
      ],
      [
        'PutItem failed condition',
        1,
        () =>
          doc
            .send(
              new PutCommand({
                TableName: 'probe-a',
                Item: { pk: 'a', sk: 1 },
                ConditionExpression: 'attribute_not_exists(sk)',
              }),
            )
            .catch(() => ({ ConsumedCapacity: 'none (error)' })),
      ],
    ];
    console.log('| call | Local reports | metered | AWS bills |');
    console.log('| --- | --- | ---: | ---: |');
    for (const [label, aws, send] of cases) {
      const before = capacityTotals(meter.snapshot());
      const out = await send();
      const after = capacityTotals(meter.snapshot());
      const metered = after.readUnits + after.writeUnits - before.readUnits - before.writeUnits;
      const reported = [out.ConsumedCapacity ?? []]
        .flat()
        .map((c) =>
          typeof c === 'string'
            ? c
            : `${(c as { TableName: string }).TableName} ${(c as { CapacityUnits: number }).CapacityUnits}`,
        )
        .join(', ');
      console.log(
        `| ${label} | ${reported} | ${metered} | ${aws}${metered === aws ? '' : ' (differs)'} |`,
      );
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
