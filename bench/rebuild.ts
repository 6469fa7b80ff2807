/**
 * `npm run bench -- --rebuild`: rebuild throughput (events/s) beside a floor measured in the same
 * run on the same DynamoDB Local: a raw parallel Scan of the same event table with the same
 * segments (no decoding, no folding, no writes). The ratio says what the rebuild adds to reading
 * the log. Seeds its own table (orders with varied histories), so it needs nothing running.
 */
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AnyRowProjection } from '../lambdas/core/projections/row-projection';
import {
  customerSummaryProjection,
  orderViewProjection,
  removedLinesProjection,
} from '../lambdas/domain/order/projections';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import { runRebuild } from '../local/tools/rebuild-cli';
import { ensureTables } from '../local/emulators/tables';
import { seedOrders } from '../test/support/event-log';
import { machineInfo } from './machine';

const value = (argv: readonly string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));

/** Every item of the table by a parallel Scan of `segments`: the floor a rebuild cannot beat. */
const rawScan = async (client: DynamoDBClient, table: string, segments: number) => {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let n = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            ExclusiveStartKey: start,
          }),
        );
        n += page.Items?.length ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return n;
    }),
  );
  return { events: counts.reduce((a, b) => a + b, 0), ms: performance.now() - started };
};

export const runRebuildBench = async (argv: readonly string[]): Promise<number> => {
  const orders = Number(value(argv, '--orders') ?? (argv.includes('--quick') ? 500 : 2000));
  const segments = Number(value(argv, '--segments') ?? 4);
  if (!(orders >= 1 && segments >= 1 && segments <= 1000)) {
    console.error('error: --orders must be >= 1 and --segments 1-1000');
    return 2;
  }
  const dynamo = await startDynamoDbLocal({});
  const stop = () => void dynamo.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const tables = {
      eventTable: 'bench-events',
      projectionsTable: 'bench-projections',
    };
    await ensureTables(client, tables, { stream: false });
    const doc = DynamoDBDocumentClient.from(client);
    console.error(`[bench] seeding ${orders} orders...`);
    const logs = await seedOrders(
      doc,
      tables.eventTable,
      'bench',
      orders,
      new Date(Date.now() - 86_400_000),
    );
    const events = logs.flat().length;
    const rows: { name: string; events: number; ms: number }[] = [];
    const floor = async () => {
      const scan = await rawScan(client, tables.eventTable, segments);
      rows.push({ name: `raw parallel Scan (floor)`, ...scan });
      return scan;
    };
    const rebuild = async (projection: AnyRowProjection) => {
      const report = await runRebuild({
        target: { projection },
        segments,
        restart: true,
        endpoint: dynamo.endpoint,
        eventTable: tables.eventTable,
        projectionsTable: tables.projectionsTable,
      });
      rows.push({
        name: `rebuild ${projection.name}@v${projection.version}`,
        events: report.events,
        ms: report.ms,
      });
    };
    // Floors before and after the rebuilds: the machine's state is the same for both.
    await floor();
    await rebuild(removedLinesProjection);
    await rebuild(customerSummaryProjection);
    // The order view: one row per order, with its lists' slots.
    await rebuild(orderViewProjection);
    await floor();
    const floors = rows.filter((r) => r.name.startsWith('raw'));
    const floorRate = floors.reduce((n, r) => n + rate(r.events, r.ms), 0) / floors.length;
    const machine = machineInfo();
    console.log(
      `\nRebuild throughput: ${orders} orders, ${events} events, ${segments} segments, DynamoDB Local (${machine.cpuModel}, ${machine.cpus} cores, node ${machine.node})\n`,
    );
    console.log('| run | events | time | events/s | of the floor |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      const perSecond = rate(r.events, r.ms);
      console.log(
        `| ${r.name} | ${r.events} | ${(r.ms / 1000).toFixed(2)} s | ${perSecond} | ${r.name.startsWith('raw') ? '-' : `${((perSecond / floorRate) * 100).toFixed(0)} %`} |`,
      );
    }
    return 0;
  } finally {
    client.destroy();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await dynamo.stop();
  }
};
