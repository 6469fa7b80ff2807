/**
 * The CPU time one load of a 1,000-event history costs in this process (the event store's
 * consistent Query pages and the event codec, no snapshot): 40 loads after 10 unmeasured, on one
 * DynamoDB Local; p10/p50/p90 of `process.cpuUsage()` per load. Measures what the AWS SDK's own
 * middleware costs per page (docs/decisions/sdk-logger-walk.md).
 * Run: node --import tsx bench/probes/load-cpu.ts
 */
import { createRequire } from 'node:module';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { ensureTables } from '../../local/emulators/tables';
import { quantityChangedEvent, startProbeDynamoDb } from './probe-dynamodb';

const EVENTS = 1_000;
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const eventTable = 'events-probe';
  try {
    await ensureTables(client, { eventTable, projectionsTable: 'rows-probe' }, { stream: false });
    const id = 'o-1';
    for (let from = 1; from <= EVENTS; from += 25) {
      const puts = Array.from({ length: 25 }, (_, i) => ({
        PutRequest: { Item: quantityChangedEvent(id, from + i, `c-${from + i}`) },
      }));
      await doc.send(new BatchWriteCommand({ RequestItems: { [eventTable]: puts } }));
    }
    const store = new DynamoDbEventStore(doc, eventTable);
    for (let i = 0; i < 10; i++) await store.load(id);
    const cpuMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const before = process.cpuUsage();
      const events = await store.load(id);
      const used = process.cpuUsage(before);
      if (events.length !== EVENTS) throw new Error(`loaded ${events.length} events`);
      cpuMs.push((used.user + used.system) / 1000);
    }
    cpuMs.sort((a, b) => a - b);
    const sdk = (createRequire(__filename)('@aws-sdk/core/package.json') as { version: string })
      .version;
    const [p10, p50, p90] = [10, 50, 90].map((p) => percentile(cpuMs, p).toFixed(1));
    console.log(
      `@aws-sdk/core ${sdk}: CPU ms per ${EVENTS}-event load p50 ${p50} (p10 ${p10}, p90 ${p90})`,
    );
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
