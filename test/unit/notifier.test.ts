/** The notifier's fan-out with fakes: gone connections, failed posts, big rows, batches. */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  type ChangedRow,
  createNotifier,
  isGone,
  PUSHED_BY_ATTRIBUTE,
  type SubscriptionStore,
  topicOf,
} from '../../lambdas/core/push/push';
import {
  type ProjectionRowStore,
  storageName,
  type StoredRow,
} from '../../lambdas/core/projections/row-projection';
import { pushingRowStore, type WriterPush } from '../../lambdas/handlers/push-wiring';
import { appendWithViews } from '../../lambdas/handlers/coupled-api';
import { COLLECTIONS } from '../../lambdas/handlers/deployment';
import type {
  DynamoDbEventStore,
  TransactItem,
} from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { createNotifierHandler, rowRecordParser } from '../../lambdas/handlers/notifier';
import {
  ownerListsProjection,
  shoppingListRowProjection,
} from '../../lambdas/domain/shopping-list/projections';
import { silentLog } from '../../lambdas/core/shared/log';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbSubscriptions } from '../../lambdas/core/push/dynamodb-subscriptions';
import { TEST_ACTOR } from '../support/permissions';

const order = { name: orderViewProjection.name };
const orderTopic = (id: string) => topicOf(order, id);

/** Subscriptions of an admin (who may be pushed every row): these tests are not about who reads. */
const store = (topics: Record<string, string[]>) => {
  const removed: string[] = [];
  const connectionsOf = async (topic: string) => {
    if (topic === orderTopic('broken')) throw new Error('throttled');
    return topics[topic] ?? [];
  };
  const subscriptions: SubscriptionStore = {
    add: async () => 'added' as const,
    remove: async () => undefined,
    connectionsOf,
    subscribersOf: async (topic) =>
      (await connectionsOf(topic)).map((connectionId) => ({ connectionId, principal: TEST_ACTOR })),
    removeConnection: async (id) => {
      removed.push(id);
      return 1;
    },
  };
  return { subscriptions, removed };
};

/** An SDK v3 service error: `name` and `$metadata`, no `statusCode`. */
const sdkError = (name: string, httpStatusCode: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

test('isGone reads the SDK v3 error name or the 410 status, never a v2-style statusCode', () => {
  expect(isGone(sdkError('GoneException', 410))).toBe(true);
  expect(isGone({ name: 'Other', $metadata: { httpStatusCode: 410 } })).toBe(true);
  expect(isGone({ statusCode: 410 })).toBe(false);
  expect(isGone(sdkError('LimitExceededException', 429))).toBe(false);
  expect(isGone(undefined)).toBe(false);
});

test('a gone subscriber is removed alone; a failing one is skipped; the others receive', async () => {
  const { subscriptions, removed } = store({
    [orderTopic('o-1')]: ['ok-1', 'gone', 'fail', 'ok-2'],
  });
  const delivered: string[] = [];
  const notify = createNotifier({
    subscriptions,
    log: silentLog,
    post: async (connectionId) => {
      if (connectionId === 'gone') throw sdkError('GoneException', 410);
      if (connectionId === 'fail') throw sdkError('LimitExceededException', 429);
      delivered.push(connectionId);
    },
  });
  const outcome = await notify([
    { view: order, id: 'o-1', version: 2, row: { id: 'o-1', version: 2 } },
  ]);
  expect(delivered.sort()).toEqual(['ok-1', 'ok-2']);
  expect(removed).toEqual(['gone']);
  expect(outcome).toEqual({ sent: 2, gone: 1, failedPosts: 1, failedChanges: [] });
});

test('only the latest version of a row in a batch is pushed', async () => {
  const { subscriptions } = store({ [orderTopic('o-1')]: ['c'] });
  const posted: string[] = [];
  const notify = createNotifier({
    subscriptions,
    log: silentLog,
    post: async (_id, data) => void posted.push(data),
  });
  await notify([
    { view: order, id: 'o-1', version: 1, row: { id: 'o-1', version: 1 } },
    { view: order, id: 'o-1', version: 2, row: { id: 'o-1', version: 2 } },
  ]);
  expect(posted.map((p) => JSON.parse(p).version)).toEqual([2]);
});

test('rows of two views with the same id are two topics: both are pushed', async () => {
  const list = { name: 'shopping-list' };
  const { subscriptions } = store({ [orderTopic('x')]: ['c'], 'shopping-list#x': ['c'] });
  const posted: string[] = [];
  const notify = createNotifier({
    subscriptions,
    log: silentLog,
    post: async (_id, data) => void posted.push(data),
  });
  await notify([
    { view: order, id: 'x', version: 1, row: { id: 'x', version: 1 } },
    { view: list, id: 'x', version: 1, row: { id: 'x', version: 1 } },
  ]);
  expect(posted.map((p) => JSON.parse(p).type).sort()).toEqual([
    'order/changed',
    'shopping-list/changed',
  ]);
});

const record = (seq: string, image: Record<string, unknown>): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: { SequenceNumber: seq, NewImage: marshall(image) as never },
});

const parse = rowRecordParser({
  projections: [
    {
      projection: orderViewProjection,
      isDeleted: (row: { status: string }) => row.status === 'deleted',
    },
    {
      projection: shoppingListRowProjection,
      isDeleted: (row: { status: string }) => row.status === 'deleted',
    },
  ],
});

/** A stored item of the projections table, as the row projector writes it. */
const item = (key: string, view: unknown, applied: Record<string, number>, seq = '9') =>
  record(seq, { key, view, applied, rev: 1 });

test("an item of the order view is a change of the order view, versioned by the order's applied version", () => {
  const row = { id: 'o-1', version: 3, status: 'draft' };
  expect(parse(item('order@v1#o-1', row, { 'o-1': 3 }))).toEqual({
    view: { ...order, canRead: orderViewProjection.canRead },
    id: 'o-1',
    version: 3,
    row,
  });
  // A deleted order keeps its row (status deleted): pushed as a deletion, the row kept to check
  // who may be pushed it.
  const deletedRow = { ...row, status: 'deleted' };
  const deleted = parse(item('order@v1#o-1', deletedRow, { 'o-1': 4 }))!;
  expect(deleted.row).toEqual({ id: 'o-1', version: 4, deleted: true });
  expect(deleted.stored).toEqual(deletedRow);
});

test('a row that is no item of the projections table is not a change', () => {
  expect(parse(record('1', { id: 'o-1', version: 3, status: 'draft' }))).toBeUndefined();
});

test("a pushed projection's item is a change of its view, versioned by its aggregate", () => {
  const list = { id: 'l-1', name: 'Groceries', status: 'active', version: 4 };
  expect(parse(item('shopping-list@v1#l-1', list, { 'l-1': 4 }))).toEqual({
    view: { name: 'shopping-list', canRead: shoppingListRowProjection.canRead },
    id: 'l-1',
    version: 4,
    row: list,
  });
});

test("a deleted aggregate's item is pushed as a deletion message", () => {
  const change = parse(item('shopping-list@v1#l-1', { status: 'deleted' }, { 'l-1': 6 }))!;
  expect(change.row).toEqual({ id: 'l-1', version: 6, deleted: true });
});

test('items of projections that are not pushed, or of another version, are not changes', () => {
  expect(parse(item(`owner-lists@v1#u-1`, { ownerId: 'u-1' }, { 'l-1': 2 }))).toBeUndefined();
  expect(parse(item('shopping-list@v2#l-1', { status: 'active' }, { 'l-1': 2 }))).toBeUndefined();
  expect(ownerListsProjection.name).toBe('owner-lists');
});

test('the handler reports the first row whose subscribers could not be read, not failed posts', async () => {
  const { subscriptions } = store({ [orderTopic('a')]: ['x'], [orderTopic('c')]: ['y'] });
  const handler = createNotifierHandler({
    logger: { info: () => undefined, addContext: () => undefined } as never,
    parse,
    notify: createNotifier({
      subscriptions,
      log: silentLog,
      post: async () => {
        throw new Error('network down');
      },
    }),
  });
  const answer = await handler({
    Records: [
      item('order@v1#a', { id: 'a', version: 1 }, { a: 1 }, '1'),
      item('order@v1#broken', { id: 'broken', version: 1 }, { broken: 1 }, '2'),
      item('order@v1#c', { id: 'c', version: 4 }, { c: 4 }, '3'),
    ],
  });
  expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
});

test('the subscribers of a topic are read with a strongly consistent Query of the table, never an index', async () => {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      return { Items: [{ connectionId: 'c-1' }] };
    },
  } as unknown as DynamoDBDocumentClient;
  const subscriptions = new DynamoDbSubscriptions(client, 'subs');
  expect(await subscriptions.connectionsOf(orderTopic('o-1'), 100)).toEqual(['c-1']);
  expect(inputs).toHaveLength(1);
  expect(inputs[0]).toMatchObject({ TableName: 'subs', ConsistentRead: true });
  expect(inputs[0]).not.toHaveProperty('IndexName');
});

test('the subscribers of a topic are read the same way, each with who subscribed', async () => {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      return {
        Items: [
          { connectionId: 'c-1', subject: 'alice', roles: '' },
          { connectionId: 'c-2', subject: 'sam', roles: 'support,unknown-group' },
          // Stored before users existed: it names nobody and is pushed nothing.
          { connectionId: 'c-3' },
        ],
      };
    },
  } as unknown as DynamoDBDocumentClient;
  const subscriptions = new DynamoDbSubscriptions(client, 'subs');
  expect(await subscriptions.subscribersOf(orderTopic('o-1'), 100)).toEqual([
    { connectionId: 'c-1', principal: { subject: 'alice', roles: [] } },
    { connectionId: 'c-2', principal: { subject: 'sam', roles: ['support'] } },
  ]);
  expect(inputs[0]).toMatchObject({ TableName: 'subs', ConsistentRead: true });
  expect(inputs[0]).not.toHaveProperty('IndexName');
});

describe('pushes from the writer (docs/decisions/push-from-the-writer.md)', () => {
  const orderKey = (id: string) => `${storageName(orderViewProjection)}#${id}`;

  test('given a row its writer posted (pushedBy), then the notifier posts nothing for it, and nothing for the versions it supersedes', async () => {
    const { subscriptions } = store({ [orderTopic('o-1')]: ['c'] });
    const posted: string[] = [];
    const handler = createNotifierHandler({
      logger: new Logger({ logLevel: 'SILENT' }),
      parse,
      notify: createNotifier({
        subscriptions,
        log: silentLog,
        post: async (_connection, data) => void posted.push(data),
      }),
    });
    const unmarked = item(orderKey('o-1'), { id: 'o-1', version: 1 }, { 'o-1': 1 }, '1');
    const marked = record('2', {
      key: orderKey('o-1'),
      view: { id: 'o-1', version: 2 },
      applied: { 'o-1': 2 },
      rev: 2,
      [PUSHED_BY_ATTRIBUTE]: 'coupled',
    });
    await handler({ Records: [unmarked, marked] });
    expect(posted).toEqual([]);

    // Alone, the unmarked write (a rebuild's, a redrive's) is the notifier's to post.
    await handler({ Records: [unmarked] });
    expect(posted.map((m) => JSON.parse(m).version)).toEqual([1]);
  });

  test('given a post that never answers, when the per-post timeout passes, then it is counted failed and the others are delivered', async () => {
    const { subscriptions } = store({ [orderTopic('o-1')]: ['hangs', 'ok'] });
    const aborted: boolean[] = [];
    const notify = createNotifier({
      subscriptions,
      log: silentLog,
      postTimeoutMs: 20,
      post: (connectionId, _data, signal) =>
        connectionId === 'hangs'
          ? new Promise(() => signal?.addEventListener('abort', () => aborted.push(true)))
          : Promise.resolve(),
    });
    const outcome = await notify([
      { view: order, id: 'o-1', version: 2, row: { id: 'o-1', version: 2 } },
    ]);
    expect(outcome).toEqual({ sent: 1, gone: 0, failedPosts: 1, failedChanges: [] });
    expect(aborted).toEqual([true]);
  });

  test('given the projector’s pushing row store, when it saves a pushed view’s row, then the row is marked and posted after the write; another row is only saved', async () => {
    const saved: StoredRow[] = [];
    const events: string[] = [];
    const rows: ProjectionRowStore = {
      get: async () => undefined,
      save: async (row) => {
        saved.push(row);
        events.push(`save ${row.key}`);
      },
    };
    const pushed: ChangedRow[] = [];
    const pushing = pushingRowStore(
      rows,
      { projections: [{ projection: orderViewProjection }] },
      {
        pushedBy: 'projector',
        push: async (changes) => {
          pushed.push(...changes);
          events.push(`push ${changes.map((c) => c.id).join()}`);
        },
      },
    );
    await pushing.save(
      { key: orderKey('o-1'), view: { id: 'o-1', version: 3 }, applied: { 'o-1': 3 }, rev: 1 },
      0,
    );
    await pushing.save({ key: 'summary@v1#c-1', view: {}, applied: { 'o-1': 3 }, rev: 1 }, 0);

    expect(events).toEqual([`save ${orderKey('o-1')}`, 'push o-1', 'save summary@v1#c-1']);
    expect(saved[0]).toMatchObject({ [PUSHED_BY_ATTRIBUTE]: 'projector' });
    expect(saved[1]).not.toHaveProperty(PUSHED_BY_ATTRIBUTE);
    expect(pushed).toEqual([
      expect.objectContaining({ id: 'o-1', version: 3, row: { id: 'o-1', version: 3 } }),
    ]);
  });
});

describe('the coupled append’s view write (appendWithViews)', () => {
  const created = {
    aggregateId: 'o-9',
    aggregateType: 'order',
    version: 1,
    type: 'order/created',
    payload: { customerId: 'c-1', currency: 'EUR' },
    eventId: 'e-1',
    occurredAt: '2026-12-06T00:00:00.000Z',
    commandId: 'k-1',
    correlationId: 'r-1',
    causationId: 'k-1',
  };
  const run = async (push?: WriterPush) => {
    const order: string[] = [];
    let written: TransactItem[] = [];
    const store = {
      appendWith: async (_events: unknown, writes: TransactItem[]) => {
        written = writes;
        order.push('commit');
      },
    } as unknown as DynamoDbEventStore;
    const rows = new DynamoDbProjectionRows({} as DynamoDBDocumentClient, 'projections');
    const append = appendWithViews(
      store,
      { collections: COLLECTIONS, rows },
      push && {
        pushedBy: push.pushedBy,
        push: async (changes) => {
          order.push(`push v${changes[0]?.version}`);
          await push.push(changes);
        },
      },
    );
    await append([created as never], { state: undefined, version: 0, before: undefined });
    return { update: written[0]?.Update, order };
  };

  test('given a push, then the view is marked pushedBy coupled and posted after the commit', async () => {
    const { update, order } = await run({ pushedBy: 'coupled', push: async () => undefined });
    expect(order).toEqual(['commit', 'push v1']);
    expect(update?.UpdateExpression).toMatch(/^SET #pushedBy = :pushedBy, /);
    expect(update?.ExpressionAttributeNames).toMatchObject({ '#pushedBy': PUSHED_BY_ATTRIBUTE });
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':pushedBy': 'coupled' });
  });

  test('given no push (a process manager’s command), then an earlier writer’s mark is removed, so the notifier posts the row', async () => {
    const { update, order } = await run();
    expect(order).toEqual(['commit']);
    expect(update?.UpdateExpression).toMatch(/ REMOVE (.*, )?#pushedBy$/);
    expect(update?.ExpressionAttributeValues).not.toHaveProperty(':pushedBy');
  });
});
