/**
 * What a coupled replay costs now that it answers the original row
 * (docs/decisions/replay-is-the-original-answer.md): the coupled handler in process (no HTTP),
 * snapshots every 100, on orders of 10, 1,000 and 10,000 events, one DynamoDB Local, one run.
 * p50 of: a new command; a resend of the command at version 2; a resend of the command that was
 * at the head before the new ones (its state is folded again from the events the runner read);
 * the same once a newer snapshot exists (its row is read and folded from version 1).
 * Run: node --import tsx bench/probes/replay-cost.ts [commands]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { ensureTables, localFunctionEnv } from '../../local/emulators/tables';
import { command } from '../../test/support/http-events';
import { quantityChangedEvent, probeTables, startProbeDynamoDb } from './probe-dynamodb';

const commands = Number(process.argv[2] ?? 30);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const seeded = (aggregateId: string, version: number) =>
  quantityChangedEvent(aggregateId, version, `seed-${aggregateId}-${version}`);

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = probeTables('probe');
  try {
    await ensureTables(client, tables, { stream: false });
    const store = new DynamoDbEventStore(doc, tables.eventTable);
    const logger = new Logger({ serviceName: 'probe', logLevel: 'ERROR' });
    const handler = coupledHandlerFromEnv(localFunctionEnv(tables, local.endpoint), {
      logger,
      commandDeadlineMs: 60_000,
    });
    for (const length of [10, 1_000, 10_000]) {
      const id = `replay-${length}`;
      const send = async (type: string, payload: object, commandId?: string) => {
        const started = performance.now();
        // As an admin, with the claims a gateway passes on (every command is authorized).
        const r = await handler(command({ type, aggregateId: id, payload, commandId }));
        if (r.statusCode >= 300) throw new Error(`${r.statusCode} ${r.body}`);
        return performance.now() - started;
      };
      await send('order/create', { customerId: 'c', currency: 'EUR' });
      const line = { lineId: 'a', sku: 'S', quantity: 1, unitPrice: 100 };
      await send('order/addLine', line, 'at-v2');
      for (let v = 2; v < length - 1;) {
        const size = Math.min(97, length - 1 - v);
        await store.append(Array.from({ length: size }, (_, i) => seeded(id, v + i + 1)));
        v += size;
      }
      // Version `length`: it reads the seeded history once and leaves a snapshot.
      const atHead = { lineId: 'a', quantity: 3 };
      await send('order/changeQuantity', atHead, 'at-head');
      const fresh: number[] = [];
      const replayEarly: number[] = [];
      const replayHead: number[] = [];
      // New commands first, so both resends answer for an order that has moved on.
      for (let i = 0; i < commands; i++) {
        fresh.push(await send('order/changeQuantity', { lineId: 'a', quantity: (i % 9) + 1 }));
      }
      for (let i = 0; i < commands; i++) {
        replayEarly.push(await send('order/addLine', line, 'at-v2'));
        replayHead.push(await send('order/changeQuantity', atHead, 'at-head'));
      }
      // 110 more: a snapshot newer than `at-head` exists, its row must be read from version 1.
      for (let i = 0; i < 110; i++)
        await send('order/changeQuantity', { lineId: 'a', quantity: 2 + (i % 2) });
      const replayBehind: number[] = [];
      for (let i = 0; i < commands; i++) {
        replayBehind.push(await send('order/changeQuantity', atHead, 'at-head'));
      }
      console.log(
        `${String(length).padStart(6)} events: new command p50=${p50(fresh).toFixed(2)} ms; ` +
          `resends: of v2 p50=${p50(replayEarly).toFixed(2)} ms, ` +
          `of v${length} ${commands} commands later p50=${p50(replayHead).toFixed(2)} ms, ` +
          `${commands + 110} later (behind the snapshot) p50=${p50(replayBehind).toFixed(2)} ms ` +
          `(n=${commands} each)`,
      );
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
