/**
 * The subscription store on DynamoDB Local: one connection follows at most a declared number of
 * rows, counted exactly in the same transaction as each subscription, whatever arrives at once;
 * subscribing again counts once; an unsubscribe frees a place; a disconnect takes the count with
 * the subscriptions. Before, a socket could follow any number of rows (issue 20's hostile user).
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbSubscriptions } from '../../lambdas/core/push/dynamodb-subscriptions';
import { createTableInput, SUBSCRIPTIONS_TABLE } from '../../lambdas/core/shared/schema';
import { localClient } from '../support/dynamo';
import type { Principal } from '../../lambdas/core/identity/principal';
import { TEST_ACTOR } from '../support/permissions';

const client = localClient();
const doc = DynamoDBDocumentClient.from(client);
const tableName = `subscriptions-${randomUUID().slice(0, 8)}`;
const store = new DynamoDbSubscriptions(doc, tableName);
const LIMIT = 5;

beforeAll(() =>
  client.send(new CreateTableCommand(createTableInput(SUBSCRIPTIONS_TABLE, tableName))),
);
afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
});

const subscription = (connectionId: string, id: string) => ({
  topic: `note#${id}`,
  connectionId,
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  principal: TEST_ACTOR,
});

test('twenty subscribes of one connection at once: exactly the limit are stored, the rest refused', async () => {
  const connection = `c-${randomUUID().slice(0, 8)}`;
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, (_, i) => store.add(subscription(connection, `n-${i}`), LIMIT)),
  );
  expect(outcomes.filter((o) => o === 'added')).toHaveLength(LIMIT);
  expect(outcomes.filter((o) => o === 'full')).toHaveLength(20 - LIMIT);
  // Each stored one is a subscription its topic's readers find.
  const stored = outcomes.flatMap((o, i) => (o === 'added' ? [`n-${i}`] : []));
  for (const id of stored) {
    expect(await store.connectionsOf(`note#${id}`, 0)).toEqual([connection]);
  }
  expect(await store.removeConnection(connection)).toBe(LIMIT);
});

test('subscribing again counts once; an unsubscribe frees a place; another connection has its own', async () => {
  const [connection, other] = [`c-${randomUUID().slice(0, 8)}`, `c-${randomUUID().slice(0, 8)}`];
  for (let i = 0; i < LIMIT; i++) {
    expect(await store.add(subscription(connection, `n-${i}`), LIMIT)).toBe('added');
  }
  expect(await store.add(subscription(connection, 'n-0'), LIMIT)).toBe('already');
  expect(await store.add(subscription(connection, 'n-extra'), LIMIT)).toBe('full');
  expect(await store.add(subscription(other, 'n-extra'), LIMIT)).toBe('added');

  await store.remove('note#n-0', connection);
  await store.remove('note#n-0', connection); // not subscribed any more: nothing to free
  expect(await store.add(subscription(connection, 'n-extra'), LIMIT)).toBe('added');
  expect(await store.add(subscription(connection, 'n-more'), LIMIT)).toBe('full');

  // A disconnect removes its subscriptions and its count: a new start from zero.
  expect(await store.removeConnection(connection)).toBe(LIMIT);
  expect(await store.connectionsOf('note#n-extra', 0)).toEqual([other]);
  expect(await store.add(subscription(connection, 'n-0'), LIMIT)).toBe('added');
});

test("given subscriptions of alice and support, when the topic's subscribers are read, then each comes with who subscribed; an expired one is left out", async () => {
  const topic = `note#who-${randomUUID().slice(0, 8)}`;
  const now = Math.floor(Date.now() / 1000);
  const [alice, support, gone] = ['a', 's', 'g'].map((c) => `${c}-${randomUUID().slice(0, 8)}`);
  const add = (connectionId: string, principal: Principal, expiresAt = now + 3600) =>
    store.add({ topic, connectionId, expiresAt, principal }, LIMIT);
  await add(alice!, { subject: 'alice', roles: [] });
  await add(support!, { subject: 'sam', roles: ['support'] });
  await add(gone!, { subject: 'bob', roles: [] }, now - 1);
  const subscribers = await store.subscribersOf(topic, now);
  expect(
    subscribers.sort((a, b) => a.principal.subject.localeCompare(b.principal.subject)),
  ).toEqual([
    { connectionId: alice, principal: { subject: 'alice', roles: [] } },
    { connectionId: support, principal: { subject: 'sam', roles: ['support'] } },
  ]);
  for (const connection of [alice!, support!, gone!]) await store.removeConnection(connection);
});
