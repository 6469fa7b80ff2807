/**
 * Many orders with varied histories, decided by the real aggregate (the command runner on an
 * in-memory store) and written straight into an event table with BatchWriteItem: thousands of
 * orders in seconds. Each event is stamped one second after the previous one from `start`,
 * so a moment in the middle cuts the log (time travel). Also: the whole log back, by a Scan.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { decodeEventItem } from '../../lambdas/core/events/dynamodb-event-store';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import { TEST_ACTOR } from './permissions';

/** Commands of order `i`: lines added, changed, removed; submitted, cancelled, deleted. */
export const variedCommands = (prefix: string, i: number): { type: string; payload: unknown }[] => {
  const sku = (n: number) => `${prefix}-S${n % 17}`;
  return [
    { type: 'order/create', payload: { customerId: `${prefix}-c${i % 97}`, currency: 'EUR' } },
    {
      type: 'order/addLine',
      payload: { lineId: 'a', sku: sku(i), quantity: (i % 5) + 1, unitPrice: 100 },
    },
    {
      type: 'order/addLine',
      payload: { lineId: 'b', sku: sku(i + 3), quantity: 2, unitPrice: 50 },
    },
    ...(i % 2 === 0
      ? [
          { type: 'order/changeQuantity', payload: { lineId: 'a', quantity: (i % 7) + 3 } },
          { type: 'order/removeLine', payload: { lineId: 'a' } },
        ]
      : []),
    ...(i % 3 === 0 ? [{ type: 'order/removeLine', payload: { lineId: 'b' } }] : []),
    ...(i % 4 === 1 ? [{ type: 'order/submit', payload: {} }] : []),
    ...(i % 5 === 2 ? [{ type: 'order/cancel', payload: {} }] : []),
    ...(i % 11 === 3 ? [{ type: 'order/delete', payload: {} }] : []),
  ];
};

/** Seeds `count` orders `<prefix>-<i>`; answers their logs. */
export const seedOrders = async (
  doc: DynamoDBDocumentClient,
  eventTable: string,
  prefix: string,
  count: number,
  start: Date,
): Promise<StoredEvent[][]> => {
  const memory = new MemoryEventStore();
  const run = createCommandRunner({ store: memory, aggregates: AGGREGATES });
  let clock = start.getTime();
  const context = (id: string) => ({
    correlationId: id,
    actor: TEST_ACTOR,
    now: () => new Date((clock += 1000)).toISOString(),
    newId: () => randomUUID(),
  });
  const logs: StoredEvent[][] = [];
  for (let i = 0; i < count; i++) {
    const aggregateId = `${prefix}-${i}`;
    for (const [n, c] of variedCommands(prefix, i).entries()) {
      await run({ ...c, aggregateId, commandId: `${aggregateId}-${n}` }, context(aggregateId));
    }
    logs.push(await memory.load(aggregateId));
  }
  const items = logs.flat();
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) =>
    items.slice(i * 25, i * 25 + 25),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        let requests = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await doc.send(
            new BatchWriteCommand({ RequestItems: { [eventTable]: requests } }),
          );
          requests = (UnprocessedItems?.[eventTable] ?? []) as typeof requests;
        }
      }
    }),
  );
  return logs;
};

/** Every aggregate's log in the table, by a Scan (through the event codec). */
export const scanLogs = async (
  doc: DynamoDBDocumentClient,
  eventTable: string,
): Promise<StoredEvent[][]> => {
  const byId = new Map<string, StoredEvent[]>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = (await doc.send(
      new ScanCommand({
        TableName: eventTable,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }) as never,
    )) as {
      Items?: Record<string, AttributeValue>[];
      LastEvaluatedKey?: Record<string, AttributeValue>;
    };
    for (const item of page.Items ?? []) {
      const event = decodeEventItem(item);
      byId.set(event.aggregateId, [...(byId.get(event.aggregateId) ?? []), event]);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return [...byId.values()].map((log) => log.sort((a, b) => a.version - b.version));
};
