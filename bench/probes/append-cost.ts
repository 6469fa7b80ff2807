/**
 * What an honest append costs (docs/decisions/honest-appends.md): a single event written as
 * a conditional PutItem (the old, skipping-allowed way) against a TransactWriteItems of the Put
 * plus a ConditionCheck on version - 1, alternating in one run on one DynamoDB Local.
 * Run: node --import tsx bench/probes/append-cost.ts [appends]
 */
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startProbeDynamoDb } from './probe-dynamodb';
import { ensureTables } from '../../local/emulators/tables';

const n = Number(process.argv[2] ?? 300);
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const TableName = 'events-probe';
  try {
    await ensureTables(
      client,
      { eventTable: TableName, projectionsTable: 'rows-probe' },
      { stream: false },
    );
    const item = (id: string, version: number) => ({
      aggregateId: id,
      version,
      aggregateType: 'order',
      type: 'order/line-added',
      payload: { sku: 'sku-1', quantity: 1, unitPriceCents: 100 },
      eventId: `e-${id}-${version}`,
      occurredAt: new Date().toISOString(),
      commandId: `c-${id}-${version}`,
      correlationId: 'probe',
      causationId: `c-${id}-${version}`,
    });
    const put = (id: string, version: number) => ({
      TableName,
      Item: item(id, version),
      ConditionExpression: 'attribute_not_exists(version)',
    });
    const stats = { put: { ms: [] as number[], wcu: 0 }, honest: { ms: [] as number[], wcu: 0 } };
    // Each way appends to its own aggregate, starting at version 2 (version 1 is a plain Put).
    for (const way of ['put', 'honest'] as const) await doc.send(new PutCommand(put(way, 1)));
    for (let v = 2; v < n + 2; v++) {
      for (const way of ['put', 'honest'] as const) {
        const started = performance.now();
        const out =
          way === 'put'
            ? await doc.send(new PutCommand({ ...put(way, v), ReturnConsumedCapacity: 'TOTAL' }))
            : await doc.send(
                new TransactWriteCommand({
                  ReturnConsumedCapacity: 'TOTAL',
                  TransactItems: [
                    { Put: put(way, v) },
                    {
                      ConditionCheck: {
                        TableName,
                        Key: { aggregateId: way, version: v - 1 },
                        ConditionExpression: 'attribute_exists(version)',
                      },
                    },
                  ],
                }),
              );
        stats[way].ms.push(performance.now() - started);
        const consumed = out.ConsumedCapacity;
        stats[way].wcu += [consumed ?? []]
          .flat()
          .reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
      }
    }
    for (const way of ['put', 'honest'] as const) {
      const { ms, wcu } = stats[way];
      console.log(
        `${way.padEnd(7)} n=${ms.length} p50=${percentile(ms, 50).toFixed(2)} ms p90=${percentile(ms, 90).toFixed(2)} ms mean=${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms WCU/append=${(wcu / ms.length).toFixed(2)}`,
      );
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
