/**
 * The connections handler with fakes that record the order of their calls: a subscription is
 * acknowledged with the row's version read after the subscription was stored, and an error
 * answer names the subscription it is about; and where that version is read. The caller is an
 * admin (who may read every row): who may follow what is in push-permissions.test.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { AddOutcome, SubscriptionStore, ViewVersions } from '../../lambdas/core/push/push';
import type { ProjectionRowStore } from '../../lambdas/core/projections/row-projection';
import { createViewVersions } from '../../lambdas/handlers/view-versions';
import { createWebSocketHandler, type WebSocketEvent } from '../../lambdas/handlers/websocket';

const CONNECTED_AT = Date.UTC(2026, 11, 5, 10, 0, 0);

const setup = (
  versions: Record<string, number> = {},
  options: { failAdd?: boolean; added?: AddOutcome } = {},
) => {
  const calls: string[] = [];
  const subscriptions: SubscriptionStore = {
    add: async (s, max) => {
      if (options.failAdd) throw new Error('ProvisionedThroughputExceededException');
      calls.push(`add ${s.topic} ${s.connectionId} (at most ${max})`);
      return options.added ?? 'added';
    },
    remove: async (topic, connectionId) => void calls.push(`remove ${topic} ${connectionId}`),
    connectionsOf: async () => [],
    subscribersOf: async () => [],
    removeConnection: async () => 0,
  };
  const viewVersions: ViewVersions = {
    // The read that checks who may follow the row, before the subscription is stored.
    currentOf: async (view, id) => {
      calls.push(`row ${view.name}#${id}`);
      const version = versions[id] ?? 0;
      return { version, row: version > 0 ? { id, version } : undefined };
    },
    versionOf: async (view, id) => {
      calls.push(`version ${view.name}#${id}`);
      return versions[id] ?? 0;
    },
  };
  const handler = createWebSocketHandler({
    subscriptions,
    versions: viewVersions,
    logger: new Logger({ logLevel: 'SILENT' }),
    collections: [{ collection: 'notes', view: { name: 'note' } }],
    maxSubscriptionsPerConnection: 5,
  });
  const send = async (routeKey: string, body: unknown) => {
    const event = {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: {
        routeKey,
        connectionId: 'conn-1',
        connectedAt: CONNECTED_AT,
        // What the $connect authorizer returned for an admin's token valid for another hour.
        authorizer: {
          principalId: 'test-admin',
          sub: 'test-admin',
          roles: 'admin',
          exp: Math.floor(Date.now() / 1000) + 3600,
        },
      },
    } as unknown as WebSocketEvent;
    const result = await handler(event);
    return { statusCode: result.statusCode, answer: JSON.parse(result.body ?? 'null') as unknown };
  };
  /** `{ action: 'subscribe', collection: 'notes', id }` on the socket. */
  const subscribe = (id: string) =>
    send('subscribe', { action: 'subscribe', collection: 'notes', id });
  return { calls, send, subscribe };
};

test('given a row at version 3, when a socket subscribes, then the subscription is stored before the version is read and the ack carries it', async () => {
  const { calls, subscribe } = setup({ 'n-1': 3 });
  const { statusCode, answer } = await subscribe('n-1');
  expect(statusCode).toBe(200);
  expect(answer).toEqual({ type: 'subscribed', collection: 'notes', id: 'n-1', version: 3 });
  expect(calls).toEqual(['row note#n-1', 'add note#n-1 conn-1 (at most 5)', 'version note#n-1']);
});

test('given a connection that follows the most rows it may, when it subscribes once more, then TOO_MANY_SUBSCRIPTIONS names the limit and no version is read', async () => {
  const { calls, subscribe } = setup({ 'n-1': 3 }, { added: 'full' });
  const { statusCode, answer } = await subscribe('n-1');
  expect(statusCode).toBe(200);
  expect(answer).toMatchObject({
    type: 'error',
    action: 'subscribe',
    collection: 'notes',
    id: 'n-1',
    error: { code: 'TOO_MANY_SUBSCRIPTIONS', details: { limit: 5 } },
  });
  expect(calls).toEqual(['row note#n-1', 'add note#n-1 conn-1 (at most 5)']);
});

test('given a subscription already stored, when the socket subscribes again, then it is acknowledged as the first time', async () => {
  const { subscribe } = setup({ 'n-1': 3 }, { added: 'already' });
  const { answer } = await subscribe('n-1');
  expect(answer).toEqual({ type: 'subscribed', collection: 'notes', id: 'n-1', version: 3 });
});

test('given no row yet, when a socket subscribes, then the ack says version 0', async () => {
  const { subscribe } = setup();
  const { answer } = await subscribe('n-2');
  expect(answer).toEqual({ type: 'subscribed', collection: 'notes', id: 'n-2', version: 0 });
});

test('given a store whose write fails, when a socket subscribes, then no version is read and the error names the subscription', async () => {
  const { calls, subscribe } = setup({ 'n-1': 3 }, { failAdd: true });
  const { statusCode, answer } = await subscribe('n-1');
  expect(statusCode).toBe(200);
  expect(answer).toMatchObject({
    type: 'error',
    action: 'subscribe',
    collection: 'notes',
    id: 'n-1',
    error: { code: 'INTERNAL' },
  });
  // Only the permission check's read came before the failed write; no version after it.
  expect(calls).toEqual(['row note#n-1']);
});

test('when a socket subscribes to an unknown collection, then the error answer echoes action, collection and id, and nothing is stored', async () => {
  const { calls, send } = setup();
  const { answer } = await send('subscribe', {
    action: 'subscribe',
    collection: 'invoices',
    id: 'i-1',
  });
  expect(answer).toMatchObject({
    type: 'error',
    action: 'subscribe',
    collection: 'invoices',
    id: 'i-1',
    error: { code: 'NOT_FOUND', details: { collection: 'invoices', collections: ['notes'] } },
  });
  expect(calls).toEqual([]);
});

test('when a socket unsubscribes, then the subscription is removed and no version is read', async () => {
  const { calls, send } = setup({ 'n-1': 3 });
  const { answer } = await send('unsubscribe', {
    action: 'unsubscribe',
    collection: 'notes',
    id: 'n-1',
  });
  expect(answer).toEqual({ type: 'unsubscribed', collection: 'notes', id: 'n-1' });
  expect(calls).toEqual(['remove note#n-1 conn-1']);
});

describe('the version a subscription is acknowledged with', () => {
  const pushed = { projections: [{ projection: { name: 'note', version: 2 } }] };
  const versions = createViewVersions(pushed, {
    get: async (key: string) =>
      key === 'note@v2#n-1' ? { key, view: {}, applied: { 'n-1': 7 }, rev: 9 } : undefined,
  } as unknown as ProjectionRowStore);

  test('given an item of the projections table at the served version, then the version of its aggregate it applied', async () => {
    expect(await versions.versionOf({ name: 'note' }, 'n-1')).toBe(7);
    expect(await versions.versionOf({ name: 'note' }, 'n-2')).toBe(0);
  });

  test('given an item of the projections table, then the current read also answers its row (what a subscribe is checked against)', async () => {
    expect(await versions.currentOf({ name: 'note' }, 'n-1')).toEqual({ version: 7, row: {} });
    expect(await versions.currentOf({ name: 'note' }, 'n-2')).toEqual({
      version: 0,
      row: undefined,
    });
  });

  test('given a view no table holds, then it throws', async () => {
    await expect(versions.versionOf({ name: 'other' }, 'x')).rejects.toThrow(/other/);
  });
});
