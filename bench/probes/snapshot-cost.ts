/**
 * What snapshots and idempotency markers cost (docs/decisions/snapshots.md and
 * docs/decisions/idempotency-markers.md), on one DynamoDB Local, one run:
 * 1. each DynamoDB call they add, alternating with the call it sits beside, with
 *    `ReturnConsumedCapacity: TOTAL`: an append with and without its marker, the marker's
 *    GetItem, the snapshot's GetItem and its conditional PutItem (an order-sized state);
 * 2. the command handlers of both profiles, in process (no HTTP), on orders of 10 and 10,000
 *    events, with snapshots (every 100): p50 of the command's answer.
 * Run: node --import tsx bench/probes/snapshot-cost.ts [calls] [commands]
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { encodeSnapshot } from '../../lambdas/core/command/snapshots';
import { commandHandlerFromEnv, coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { Logger } from '@aws-lambda-powertools/logger';
import { command } from '../../test/support/http-events';
import { quantityChangedEvent, probeTables, startProbeDynamoDb } from './probe-dynamodb';
import { ensureTables, localFunctionEnv } from '../../local/emulators/tables';

const calls = Number(process.argv[2] ?? 300);
const commands = Number(process.argv[3] ?? 40);
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const units = (out: { ConsumedCapacity?: unknown }) =>
  [out.ConsumedCapacity ?? []]
    .flat()
    .reduce<number>(
      (sum, c) =>
        sum +
        ((c as { CapacityUnits?: number }).CapacityUnits ??
          (c as { WriteCapacityUnits?: number }).WriteCapacityUnits ??
          0),
      0,
    );
const line = (name: string, ms: number[], capacity: number, unit: string) =>
  console.log(
    `${name.padEnd(34)} n=${ms.length} p50=${percentile(ms, 50).toFixed(2)} ms p90=${percentile(ms, 90).toFixed(2)} ms mean=${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms ${unit}/call=${(capacity / ms.length).toFixed(2)}`,
  );

const event = quantityChangedEvent;

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = probeTables('probe');
  try {
    await ensureTables(client, tables, { stream: false });

    // 1. The calls, alternating.
    const put = (id: string, v: number) => ({
      TableName: tables.eventTable,
      Item: event(id, v, `c-${id}-${v}`),
      ConditionExpression: 'attribute_not_exists(version)',
    });
    const check = (id: string, v: number) => ({
      ConditionCheck: {
        TableName: tables.eventTable,
        Key: { aggregateId: id, version: v - 1 },
        ConditionExpression: 'attribute_exists(version)',
      },
    });
    const marker = (id: string, v: number) => ({
      Put: {
        TableName: tables.commandsTable,
        Item: {
          aggregateId: id,
          commandId: `c-${id}-${v}`,
          commandHash: 'probe',
          firstVersion: v,
          lastVersion: v,
        },
        ConditionExpression: 'attribute_not_exists(commandId)',
      },
    });
    const state = {
      id: 'o',
      customerId: 'customer-1',
      currency: 'EUR',
      status: 'draft',
      lines: [1, 2, 3].map((i) => ({
        lineId: `line-${i}`,
        sku: `sku-${i}`,
        quantity: 3,
        unitPrice: 1250,
        amount: 3750,
      })),
      lineCount: 3,
      total: 11250,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      version: 1,
    };
    const stats: Record<string, { ms: number[]; units: number; unit: string }> = {};
    const time = async (
      name: string,
      unit: string,
      call: () => Promise<{ ConsumedCapacity?: unknown }>,
    ) => {
      const into = (stats[name] ??= { ms: [], units: 0, unit });
      const started = performance.now();
      const out = await call();
      into.ms.push(performance.now() - started);
      into.units += units(out);
    };
    for (const id of ['plain', 'marked']) await doc.send(new PutCommand(put(id, 1)));
    for (let v = 2; v < calls + 2; v++) {
      await time('append: Put + ConditionCheck', 'WCU', () =>
        doc.send(
          new TransactWriteCommand({
            ReturnConsumedCapacity: 'TOTAL',
            TransactItems: [{ Put: put('plain', v) }, check('plain', v)],
          }),
        ),
      );
      await time('append: + marker', 'WCU', () =>
        doc.send(
          new TransactWriteCommand({
            ReturnConsumedCapacity: 'TOTAL',
            TransactItems: [{ Put: put('marked', v) }, check('marked', v), marker('marked', v)],
          }),
        ),
      );
      await time('marker GetItem (consistent)', 'RCU', () =>
        doc.send(
          new GetCommand({
            TableName: tables.commandsTable,
            Key: { aggregateId: 'marked', commandId: `c-marked-${v - 1}` },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      await time('snapshot PutItem (conditional)', 'WCU', () =>
        doc.send(
          new PutCommand({
            TableName: tables.snapshotsTable,
            Item: encodeSnapshot(
              { aggregateId: 'o', snapshotKey: 'order@v1#probe', version: v, state },
              new Date().toISOString(),
            ),
            ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': v },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      await time('snapshot GetItem (consistent)', 'RCU', () =>
        doc.send(
          new GetCommand({
            TableName: tables.snapshotsTable,
            Key: { aggregateId: 'o', snapshotKey: 'order@v1#probe' },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
    }
    for (const [name, { ms, units: u, unit }] of Object.entries(stats)) line(name, ms, u, unit);

    // 2. The handlers at 10 and 10,000 events.
    const store = new DynamoDbEventStore(doc, tables.eventTable, {
      commandsTable: tables.commandsTable,
    });
    const env = localFunctionEnv(tables, local.endpoint);
    const logger = new Logger({ serviceName: 'probe', logLevel: 'ERROR' });
    // A generous deadline: the unmeasured first command reads the whole seeded history.
    const wiring = { logger, commandDeadlineMs: 60_000 };
    const handlers = {
      decoupled: commandHandlerFromEnv(env, wiring),
      coupled: coupledHandlerFromEnv(env, wiring),
    };
    // As an admin, with the claims a gateway passes on (every command is authorized).
    const body = (aggregateId: string, type: string, payload: object) =>
      command({ type, aggregateId, payload });
    for (const length of [10, 10_000]) {
      for (const [profile, handler] of Object.entries(handlers)) {
        const id = `h-${profile}-${length}`;
        const send = (type: string, payload: object) =>
          handler(body(id, type, payload) as never).then((r) => {
            if (r.statusCode >= 300) throw new Error(`${profile}: ${r.statusCode} ${r.body}`);
          });
        await send('order/create', { customerId: 'c', currency: 'EUR' });
        await send('order/addLine', { lineId: 'a', sku: 'S', quantity: 1, unitPrice: 100 });
        for (let v = 2; v < length;) {
          const size = Math.min(97, length - v);
          await store.append(
            Array.from({ length: size }, (_, i) => event(id, v + i + 1, `seed-${id}-${v}`)),
          );
          v += size;
        }
        // One unmeasured command: it reads the seeded history and leaves the snapshot.
        await send('order/changeQuantity', { lineId: 'a', quantity: 1 });
        const ms: number[] = [];
        for (let i = 0; i < commands; i++) {
          const started = performance.now();
          await send('order/changeQuantity', { lineId: 'a', quantity: (i % 9) + 1 });
          ms.push(performance.now() - started);
        }
        line(`${profile} command at ${length} events`, ms, 0, '-');
      }
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
