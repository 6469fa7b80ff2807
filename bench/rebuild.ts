/**
 * `npm run bench -- --rebuild`: rebuild throughput (events/s) beside a floor measured in the same
 * run on the same DynamoDB Local: a raw parallel Scan of the same event table with the same
 * segments (no decoding, no folding, no writes). The ratio says what the rebuild adds to reading
 * the log. Seeds its own table (orders with varied histories), so it needs nothing running.
 * A second floor decodes every item through the event codec, which a rebuild must do. Warm-up
 * Scans and a warm-up rebuild are not reported; the floors are measured before and after each
 * rebuild, and each rebuild is compared with the two beside it (a shared machine drifts).
 * bench/probes/rebuild-calls.ts counts the calls a rebuild sends.
 */
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeEventItem } from '../lambdas/core/events/dynamodb-event-store';
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

/**
 * Every item of the table by a parallel Scan of `segments`: the floor a rebuild cannot beat.
 * With `decode`, each item also goes through the event codec, as a rebuild must (unmarshall,
 * schema, upcast): a second line, so what the rows' writes add shows apart from decoding.
 */
const rawScan = async (client: DynamoDBClient, table: string, segments: number, decode = false) => {
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
        if (decode) for (const item of page.Items ?? []) decodeEventItem(item);
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
    const rows: {
      name: string;
      events: number;
      ms: number;
      ofFloor?: number;
      ofDecoded?: number;
    }[] = [];
    /** The floors (raw, and with the codec), measured before and after each rebuild. */
    const floors = async () => {
      const raw = await rawScan(client, tables.eventTable, segments);
      const decoded = await rawScan(client, tables.eventTable, segments, true);
      rows.push({ name: 'raw parallel Scan (floor)', ...raw });
      rows.push({ name: 'parallel Scan + event codec', ...decoded });
      return { raw: rate(raw.events, raw.ms), decoded: rate(decoded.events, decoded.ms) };
    };
    const rebuild = (projection: AnyRowProjection) =>
      runRebuild({
        target: { projection },
        segments,
        restart: true,
        endpoint: dynamo.endpoint,
        eventTable: tables.eventTable,
        projectionsTable: tables.projectionsTable,
      });
    const measured = async (
      projection: AnyRowProjection,
      before: { raw: number; decoded: number },
    ) => {
      const report = await rebuild(projection);
      const index = rows.length;
      const after = await floors();
      const perSecond = rate(report.events, report.ms);
      rows.splice(index, 0, {
        name: `rebuild ${projection.name}@v${projection.version}`,
        events: report.events,
        ms: report.ms,
        ofFloor: perSecond / ((before.raw + after.raw) / 2),
        ofDecoded: perSecond / ((before.decoded + after.decoded) / 2),
      });
      return after;
    };
    // Not reported: DynamoDB Local's first Scans of a table, and its first writes, are several
    // times slower (its JVM warms up): three Scans and a rebuild into a version of its own.
    for (let i = 0; i < 3; i++) await rawScan(client, tables.eventTable, segments, i > 0);
    await rebuild({ ...customerSummaryProjection, version: 1_000 });
    let latest = await floors();
    latest = await measured(removedLinesProjection, latest);
    latest = await measured(customerSummaryProjection, latest);
    // The order view: one row per order, with its lists' slots.
    await measured(orderViewProjection, latest);
    const machine = machineInfo();
    console.log(
      `\nRebuild throughput: ${orders} orders, ${events} events, ${segments} segments, DynamoDB Local (${machine.cpuModel}, ${machine.cpus} cores, node ${machine.node}); each rebuild against the mean of the floors just before and after it\n`,
    );
    console.log('| run | events | time | events/s | of the raw Scan | of Scan + codec |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    const percent = (ratio: number | undefined) =>
      ratio === undefined ? '-' : `${(ratio * 100).toFixed(0)} %`;
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.events} | ${(r.ms / 1000).toFixed(2)} s | ${rate(r.events, r.ms)} | ${percent(r.ofFloor)} | ${percent(r.ofDecoded)} |`,
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
