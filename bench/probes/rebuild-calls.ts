/**
 * Where a rebuild's time goes (lambdas/core/repair/rebuild.ts): the rebuild of each projection
 * run in process against one DynamoDB Local, beside a raw parallel Scan of the same table, with
 * the calls the rebuild sent counted per command name (a middleware on the client) and the
 * rows' conditional writes that lost a race. Every projection is rebuilt `--rounds` times, each
 * into a version of its own (a fresh build), so the first round's JIT warm-up shows.
 *
 * Run: node --import tsx bench/probes/rebuild-calls.ts [--orders 1000] [--segments 4] [--rounds 2]
 *      [--writer shared|segment|none]   (one row writer for the process's segments, or one each;
 *                                   none: rows read, never written, to see the rest's cost)
 *      [--compare <module>]        (also a rebuild module of another revision, path from here,
 *                                   e.g. a copy of the old rebuild.ts beside the new one)
 *      [--only removed-lines,customer-summary]
 */
import { parseArgs } from 'node:util';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbEventScan } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { AnyRowProjection } from '../../lambdas/core/projections/row-projection';
import { DynamoDbRebuildState } from '../../lambdas/core/repair/dynamodb-rebuild-state';
import { finishRebuild, rebuildSegment, startRebuild } from '../../lambdas/core/repair/rebuild';
import {
  customerSummaryProjection,
  orderViewProjection,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import { ensureTables } from '../../local/emulators/tables';
import { seedOrders } from '../../test/support/event-log';
import { startProbeDynamoDb } from './probe-dynamodb';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1000' },
    segments: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    writer: { type: 'string', default: 'shared' },
    compare: { type: 'string' },
    only: { type: 'string' },
  },
});
const orders = Number(values.orders);
const segments = Number(values.segments);
const rounds = Number(values.rounds);

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const calls = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.set(context.commandName!, (calls.get(context.commandName!) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  try {
    const tables = { eventTable: 'probe-events', projectionsTable: 'probe-projections' };
    await ensureTables(client, tables, { stream: false });
    const logs = await seedOrders(
      doc,
      tables.eventTable,
      'p',
      orders,
      new Date(Date.now() - 864e5),
    );
    const events = logs.flat().length;
    const rawScan = async () => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: segments }, async (_, segment) => {
          let start: Record<string, AttributeValue> | undefined;
          do {
            const page = await client.send(
              new ScanCommand({
                TableName: tables.eventTable,
                Segment: segment,
                TotalSegments: segments,
                ExclusiveStartKey: start,
              }),
            );
            start = page.LastEvaluatedKey;
          } while (start);
        }),
      );
      return performance.now() - started;
    };
    const rows = new DynamoDbProjectionRows(doc, tables.projectionsTable);
    const state = new DynamoDbRebuildState(doc, tables.projectionsTable);
    let stale = 0;
    const countingRows = Object.assign(Object.create(rows) as DynamoDbProjectionRows, {
      save: async (...args: Parameters<DynamoDbProjectionRows['save']>) => {
        try {
          return await rows.save(...args);
        } catch (error) {
          stale++;
          throw error;
        }
      },
    });
    type Rebuilder = { rebuildSegment: typeof rebuildSegment };
    const variants: [string, Rebuilder][] = [['this', { rebuildSegment }]];
    if (values.compare) {
      variants.unshift(['compared', (await import(values.compare)) as Rebuilder]);
    }
    const rebuild = async (projection: AnyRowProjection, module: Rebuilder) => {
      const target = { projection };
      await startRebuild(state, target, segments, { restart: true });
      calls.clear();
      stale = 0;
      const started = performance.now();
      // One row store for every segment shares their row writer, as `npm run rebuild` does;
      // one each (as separate Lambda invocations) does not.
      const storeOf = (): DynamoDbProjectionRows =>
        values.writer === 'shared'
          ? countingRows
          : values.writer === 'none'
            ? Object.assign(Object.create(countingRows), { save: async () => undefined })
            : Object.create(countingRows);
      await Promise.all(
        Array.from({ length: segments }, (_, segment) =>
          module.rebuildSegment(
            {
              scan: new DynamoDbEventScan(client, tables.eventTable),
              rows: storeOf(),
              state,
            },
            target,
            segment,
            segments,
          ),
        ),
      );
      const ms = performance.now() - started;
      const totals = await finishRebuild(state, target);
      if (totals.status !== 'complete') throw new Error(`${projection.name}: ${totals.status}`);
      return { ms, calls: Object.fromEntries(calls), stale };
    };
    console.log(`${orders} orders, ${events} events, ${segments} segments`);
    await rawScan(); // warm-up
    let version = 100;
    const bases = [removedLinesProjection, customerSummaryProjection, orderViewProjection].filter(
      (p) => !values.only || values.only.split(',').includes(p.name),
    );
    for (let round = 1; round <= rounds; round++) {
      for (const base of bases) {
        for (const [variant, module] of variants) {
          const before = await rawScan();
          const projection = { ...base, version: version++ };
          const result = await rebuild(projection, module);
          const after = await rawScan();
          const floorRate = (events / (before / 1000) + events / (after / 1000)) / 2;
          const perSecond = events / (result.ms / 1000);
          console.log(
            `round ${round} ${variant} ${base.name}: ${(result.ms / 1000).toFixed(2)} s, ${Math.round(perSecond)} events/s, floors ${Math.round(events / (before / 1000))}/${Math.round(events / (after / 1000))} events/s, ${((perSecond / floorRate) * 100).toFixed(0)} % of them; lost races ${result.stale}; calls ${JSON.stringify(result.calls)}`,
          );
        }
      }
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
