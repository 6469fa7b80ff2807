/**
 * What an idle stream's poll costs in DynamoDB Local as other streams grow (docs/local-runtime.md,
 * "What differs from AWS"). Two tables with streams on one DynamoDB Local: one gets events written
 * in batches and never read, the other none. At 0, 5,000, 20,000 and 40,000 unread records, the
 * idle table's stream is polled 20 times as the local stream poller does (DescribeStream, then
 * GetShardIterator and GetRecords per shard), each call timed with performance.now(); a write to
 * the growing table and one to a table without a stream are timed beside it (20 each).
 *
 * Run: node --import tsx bench/probes/stream-growth.ts
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTables } from '../../local/emulators/tables';
import { quantityChangedEvent, startProbeDynamoDb } from './probe-dynamodb';

const LEVELS = [0, 5_000, 20_000, 40_000];
const TIMES = 20;

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const streams = new DynamoDBStreamsClient({
    endpoint: local.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const growing = { eventTable: 'grow-events', projectionsTable: 'grow-rows' };
    const idle = { eventTable: 'idle-events', projectionsTable: 'idle-rows' };
    await ensureTables(client, growing, { stream: true });
    await ensureTables(client, idle, { stream: true });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: idle.eventTable }));
    const streamArn = Table!.LatestStreamArn!;
    /** Mean ms per call of one poll of the idle stream, by call. */
    const poll = async () => {
      const spent = { describe: 0, iterator: 0, records: 0 };
      const timed = async <T>(call: keyof typeof spent, send: () => Promise<T>) => {
        const started = performance.now();
        const result = await send();
        spent[call] += performance.now() - started;
        return result;
      };
      for (let i = 0; i < TIMES; i++) {
        const described = await timed('describe', () =>
          streams.send(new DescribeStreamCommand({ StreamArn: streamArn })),
        );
        for (const shard of described.StreamDescription?.Shards ?? []) {
          const { ShardIterator } = await timed('iterator', () =>
            streams.send(
              new GetShardIteratorCommand({
                StreamArn: streamArn,
                ShardId: shard.ShardId!,
                ShardIteratorType: 'LATEST',
              }),
            ),
          );
          await timed('records', () => streams.send(new GetRecordsCommand({ ShardIterator })));
        }
      }
      return Object.fromEntries(Object.entries(spent).map(([call, ms]) => [call, ms / TIMES]));
    };
    const writeMs = async (table: string, item: (k: number) => object) => {
      const started = performance.now();
      for (let k = 0; k < TIMES; k++) {
        await doc.send(
          new BatchWriteCommand({
            RequestItems: {
              [table]: [{ PutRequest: { Item: item(k) as Record<string, unknown> } }],
            },
          }),
        );
      }
      return (performance.now() - started) / TIMES;
    };
    console.log(
      'unread records | DescribeStream | GetShardIterator | GetRecords | write (stream) | write (no stream), mean ms',
    );
    let written = 0;
    for (const level of LEVELS) {
      for (; written < level; written += 25) {
        const puts = Array.from({ length: 25 }, (_, i) => ({
          PutRequest: {
            Item: quantityChangedEvent(
              `o-${Math.floor((written + i) / 10)}`,
              ((written + i) % 10) + 1,
              `c-${written + i}`,
            ),
          },
        }));
        await doc.send(new BatchWriteCommand({ RequestItems: { [growing.eventTable]: puts } }));
      }
      const polled = await poll();
      const toStream = await writeMs(growing.eventTable, (k) =>
        quantityChangedEvent(`probe-${level}`, k + 1, `p-${level}-${k}`),
      );
      const toPlain = await writeMs(idle.projectionsTable, (k) => ({ key: `k-${level}-${k}` }));
      console.log(
        [level, polled.describe, polled.iterator, polled.records, toStream, toPlain]
          .map((v, i) => (i === 0 ? String(v) : v!.toFixed(1)))
          .join(' | '),
      );
    }
  } finally {
    streams.destroy();
    await local.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
