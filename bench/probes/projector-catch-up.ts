/**
 * How long the decoupled projector takes to catch up on an order written straight into the
 * event table (as the bench seeds: BatchWriteItem), and the visible latency of a command on it
 * afterwards (docs/decisions/projector-source-state-cache.md). One DynamoDB Local, the
 * real stream through the local stream poller (batches of 100, 10 ms polls), the projector
 * handler the cloud runs (every declared projection, the order view among them), commands through the command
 * handler in process (no HTTP).
 *
 * For each history length: the order is seeded, then the time until its order row is at the
 * last version and its customer-summary row has applied it (from the start of seeding); then
 * `commands` changeQuantity commands, each timed until the order row shows it (visible) and
 * until the customer-summary row has applied it.
 *
 * Run: node --import tsx bench/probes/projector-catch-up.ts [--events 10,10000] [--commands 20]
 *      [--cache N]   (N: the projector's source-state cache size; 0 turns it off)
 */
import { parseArgs } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  customerSummaryProjection,
  orderViewProjection,
} from '../../lambdas/domain/order/projections';
import { type AnyRowProjection, storedKey } from '../../lambdas/core/projections/row-projection';
import { commandHandlerFromEnv, projectorHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { probeTables, startProbeDynamoDb } from './probe-dynamodb';
import { startStreamPoller } from '../../local/emulators/stream-poller';
import { ensureTables, localFunctionEnv } from '../../local/emulators/tables';
import { historyEvents } from '../orders';
import { batchPut } from '../runners';

const USAGE = `Usage: node --import tsx bench/probes/projector-catch-up.ts [options]
  --events L1,L2,...  history lengths, each at least 2 (default 10,10000)
  --commands N        measured commands per length (default 20)
  --cache N           the projector's source-state cache size (default: the projector's own;
                      0 turns the cache off)
  --help              this text`;

const fail = (message: string): never => {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
};

const options = (() => {
  try {
    return parseArgs({
      options: {
        events: { type: 'string', default: '10,10000' },
        commands: { type: 'string', default: '20' },
        cache: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const integer = (raw: string, what: string, min: number) => {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= min
    ? n
    : fail(`${what} must be an integer >= ${min}: ${raw}`);
};
const lengths = options.events.split(',').map((s) => integer(s.trim(), '--events', 2));
const commands = integer(options.commands, '--commands', 1);
const cacheSize = options.cache === undefined ? undefined : integer(options.cache, '--cache', 0);

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = probeTables('catchup');
  const stops: (() => Promise<void>)[] = [];
  try {
    const { eventStreamArn } = await ensureTables(client, tables, { stream: true });
    if (!eventStreamArn) throw new Error('the event table has no stream');
    const env = localFunctionEnv(tables, local.endpoint);
    const logger = new Logger({ serviceName: 'probe', logLevel: 'ERROR' });
    const poller = await startStreamPoller({
      endpoint: local.endpoint,
      streamArn: eventStreamArn,
      handler: projectorHandlerFromEnv(env, {
        logger,
        ...(cacheSize !== undefined && { projectorCacheSize: cacheSize }),
      }),
      functionName: 'probe-projector',
      pollIntervalMs: 10,
    });
    stops.push(() => poller.stop());
    const send = commandHandlerFromEnv(env, { logger, commandDeadlineMs: 60_000 });
    /** The version of order `id` a projection's row has applied (its checkpoint). */
    const appliedOf = async (projection: AnyRowProjection, rowKey: string, id: string) => {
      const { Item } = await doc.send(
        new GetCommand({
          TableName: tables.projectionsTable,
          Key: { key: storedKey(projection, rowKey) },
          ConsistentRead: true,
        }),
      );
      return Number((Item?.applied as Record<string, number> | undefined)?.[id] ?? 0);
    };
    const orderVersion = (id: string) => appliedOf(orderViewProjection, id, id);
    const summaryApplied = (id: string) =>
      appliedOf(customerSummaryProjection, `customer-${id}`, id);
    /** Polls `read` until it reaches `version`; answers the moment it did. */
    const until = async (read: () => Promise<number>, version: number, limitMs: number) => {
      const started = performance.now();
      while ((await read()) < version) {
        if (performance.now() - started > limitMs) {
          throw new Error(`not caught up to version ${version} after ${limitMs} ms`);
        }
        await sleep(2);
      }
      return performance.now();
    };

    console.log(`cache: ${cacheSize ?? 'default'}; lengths ${lengths.join(', ')}`);
    for (const length of lengths) {
      const id = `catchup-${length}-${process.pid}`;
      const started = performance.now();
      await batchPut(
        doc,
        tables.eventTable,
        historyEvents(id, length) as unknown as Record<string, unknown>[],
      );
      const seeded = performance.now();
      const [rowAt, summaryAt] = await Promise.all([
        until(() => orderVersion(id), length, 1_800_000),
        until(() => summaryApplied(id), length, 1_800_000),
      ]);
      console.log(
        `${String(length).padStart(6)} events: seeded in ${(seeded - started).toFixed(0)} ms; ` +
          `order row caught up ${(rowAt - started).toFixed(0)} ms, customer-summary ` +
          `${(summaryAt - started).toFixed(0)} ms after seeding started`,
      );

      const command = (quantity: number) =>
        send({
          version: '2.0',
          routeKey: 'POST /commands',
          rawPath: '/commands',
          rawQueryString: '',
          headers: { 'content-type': 'application/json' },
          requestContext: { http: { method: 'POST', path: '/commands' } },
          body: JSON.stringify({
            type: 'order/changeQuantity',
            aggregateId: id,
            payload: { lineId: 'line-1', quantity },
          }),
          isBase64Encoded: false,
        } as never).then((r) => {
          if (r.statusCode !== 202) throw new Error(`${r.statusCode} ${r.body}`);
          return (JSON.parse(r.body) as { version: number }).version;
        });
      // One unmeasured command: it reads the seeded history and leaves a snapshot.
      const first = await command(1);
      await until(() => summaryApplied(id), first, 600_000);
      const visible: number[] = [];
      const summary: number[] = [];
      for (let i = 0; i < commands; i++) {
        const sent = performance.now();
        const version = await command((i % 9) + 1);
        const [rowAt, summaryAt] = await Promise.all([
          until(() => orderVersion(id), version, 600_000),
          until(() => summaryApplied(id), version, 600_000),
        ]);
        visible.push(rowAt - sent);
        summary.push(summaryAt - sent);
      }
      console.log(
        `${String(length).padStart(6)} events: ${commands} commands, p50 order row visible ` +
          `${percentile(visible, 50).toFixed(1)} ms (p90 ${percentile(visible, 90).toFixed(1)}), ` +
          `customer-summary applied ${percentile(summary, 50).toFixed(1)} ms ` +
          `(p90 ${percentile(summary, 90).toFixed(1)})`,
      );
    }
    const stats = poller.stats();
    console.log(
      `poller: ${stats.invocations} invocations, ${stats.delivered} records, ${stats.retries} retries`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
    client.destroy();
    await local.stop();
  }
};

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
