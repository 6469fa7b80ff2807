/**
 * The write each command sends, on DynamoDB Local: docs/local-runtime.md, "`--data-dir` and hard
 * kills" says which commands a SIGKILL of DynamoDB Local can lose (those written as
 * TransactWriteItems), and this test keeps that sentence true. With idempotency markers every
 * command is a transaction, a single-event one at version 1 included (its event and its
 * marker).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

test('every command writes one TransactWriteItems: the first event, a single event and several', async () => {
  const writes: string[] = [];
  const spy = {
    send: (command: { constructor: { name: string } }) => {
      if (/Put|Transact|Update/.test(command.constructor.name))
        writes.push(command.constructor.name);
      return tables.doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  const store = new DynamoDbEventStore(spy, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  const run = createCommandRunner({ store, aggregates: AGGREGATES });
  const id = `shape-${randomUUID()}`;
  const context = { correlationId: 'c', now: () => new Date().toISOString(), newId: randomUUID };
  const send = (type: string, payload: unknown) =>
    run({ type, aggregateId: id, payload, commandId: randomUUID() }, context);

  await send('order/create', { customerId: 'c', currency: 'EUR' });
  expect(writes).toEqual(['TransactWriteCommand']);
  await send('order/addLine', { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 });
  expect(writes).toEqual(['TransactWriteCommand', 'TransactWriteCommand']);
  expect(await store.currentVersion(id)).toBe(2);
});

test('docs/local-runtime.md says so', () => {
  const doc = readFileSync(join(__dirname, '../../docs/local-runtime.md'), 'utf8');
  expect(doc.replace(/\s+/g, ' ')).toContain(
    'every command is written as one `TransactWriteItems`',
  );
});
