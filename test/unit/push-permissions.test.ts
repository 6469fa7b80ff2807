/**
 * Who is pushed what (issue 20), with the deployment's own declarations and in-memory fakes: the
 * notifier posts a row only to subscribers whose principal may read it (checked on every push),
 * a deletion by the row as stored; the connections handler refuses a subscribe to a row the
 * caller may not read as if it did not exist, and any subscribe once the connection's token has
 * expired. Users: alice and bob (customers), support, admin.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/command/aggregate';
import { type NewEvent, toAction } from '../../lambdas/core/events/events';
import { stamp } from '../../lambdas/core/given';
import { mayRead } from '../../lambdas/core/identity/authorization';
import type { Principal } from '../../lambdas/core/identity/principal';
import {
  type ProjectionRowStore,
  type StoredRow,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import {
  createNotifier,
  type Subscriber,
  type Subscription,
  type SubscriptionStore,
} from '../../lambdas/core/push/push';
import { silentLog } from '../../lambdas/core/shared/log';
import { orderAggregate } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { shoppingListAggregate } from '../../lambdas/domain/shopping-list';
import { shoppingListRowProjection } from '../../lambdas/domain/shopping-list/projections';
import { PUSHED_COLLECTIONS } from '../../lambdas/handlers/deployment';
import { rowRecordParser } from '../../lambdas/handlers/notifier';
import { pushedRowsFor } from '../../lambdas/handlers/push-wiring';
import { createViewVersions } from '../../lambdas/handlers/view-versions';
import { createWebSocketHandler, type WebSocketEvent } from '../../lambdas/handlers/websocket';

const alice: Principal = { subject: 'alice', roles: [] };
const bob: Principal = { subject: 'bob', roles: [] };
const support: Principal = { subject: 'support', roles: ['support'] };
const admin: Principal = { subject: 'admin', roles: ['admin'] };
const EVERYONE = { alice, bob, support, admin };

/** The row an aggregate's view holds after `events`: the aggregate's own fold. */
const rowAfter = (aggregate: AnyAggregate, id: string, events: NewEvent[]) =>
  foldEvents(aggregate, stamp(id, events).map(toAction)) as Record<string, unknown>;

const alicesOrder = rowAfter(orderAggregate, 'o-1', [
  { type: 'order/created', payload: { customerId: 'alice', currency: 'EUR' } },
]);
const aliceDeletedOrder = rowAfter(orderAggregate, 'o-1', [
  { type: 'order/created', payload: { customerId: 'alice', currency: 'EUR' } },
  { type: 'order/deleted', payload: {} },
]);
const listCreated = {
  type: 'shoppingList/created',
  payload: { name: 'Groceries', ownerId: 'alice' },
};
const sharedWithBob = { type: 'shoppingList/shared', payload: { userId: 'bob' } };

/** The pushed views as the deployment declares them (their read rules with them). */
const pushed = pushedRowsFor({});
const viewOf = (collection: string) =>
  PUSHED_COLLECTIONS.find((c) => c.collection === collection)!.view;

/** One subscription per user to `topic`, their connection named after them. */
const subscribedByEveryone = (topic: string): SubscriptionStore => ({
  add: async () => 'added',
  remove: async () => undefined,
  connectionsOf: async () => Object.keys(EVERYONE),
  subscribersOf: async (asked) =>
    asked === topic
      ? Object.entries(EVERYONE).map(([connectionId, principal]): Subscriber => ({
          connectionId,
          principal,
        }))
      : [],
  removeConnection: async () => 0,
});

/** Who the notifier posted to, for one batch of changed rows. */
const pushedTo = async (
  topic: string,
  changes: Parameters<ReturnType<typeof createNotifier>>[0],
) => {
  const posts: { connectionId: string; type: string }[] = [];
  await createNotifier({
    subscriptions: subscribedByEveryone(topic),
    log: silentLog,
    post: async (connectionId, data) =>
      void posts.push({ connectionId, type: (JSON.parse(data) as { type: string }).type }),
  })(changes);
  return posts;
};

/** A stored item of the projections table as the row projector writes it, as a stream record. */
const itemRecord = (
  projection: typeof orderViewProjection | typeof shoppingListRowProjection,
  id: string,
  view: Record<string, unknown>,
): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: {
    SequenceNumber: '1',
    NewImage: marshall({
      key: storedKey(projection, id),
      view,
      applied: { [id]: view.version },
      rev: 1,
    }) as never,
  },
});

const parse = rowRecordParser(pushed);

describe('the notifier', () => {
  test("given alice's order changed, when it is pushed, then alice, support and admin receive it and bob does not", async () => {
    const change = parse(itemRecord(orderViewProjection, 'o-1', alicesOrder))!;
    const posts = await pushedTo('order#o-1', [change]);
    expect(posts.map((p) => p.connectionId).sort()).toEqual(['admin', 'alice', 'support']);
    expect(new Set(posts.map((p) => p.type))).toEqual(new Set(['order/changed']));
  });

  test("given alice's order deleted, when its deletion is pushed, then who may read it is asked of the row as stored, not of the stub", async () => {
    const change = parse(itemRecord(orderViewProjection, 'o-1', aliceDeletedOrder))!;
    // The stub names no customer: asked about it, the rule would refuse alice her own deletion.
    expect(change.row).toEqual({ id: 'o-1', version: 2, deleted: true });
    expect(mayRead(change.view.canRead, alice, change.row)).toBe(false);
    const posts = await pushedTo('order#o-1', [change]);
    expect(posts.map((p) => p.connectionId).sort()).toEqual(['admin', 'alice', 'support']);
    expect(new Set(posts.map((p) => p.type))).toEqual(new Set(['order/deleted']));
  });

  test("given alice's list shared with bob, when it changes, then bob receives it; once unshared, he does not", async () => {
    const shared = rowAfter(shoppingListAggregate, 'l-1', [listCreated, sharedWithBob]);
    const unshared = rowAfter(shoppingListAggregate, 'l-1', [
      listCreated,
      sharedWithBob,
      { type: 'shoppingList/unshared', payload: { userId: 'bob' } },
    ]);
    const whileShared = await pushedTo('shopping-list#l-1', [
      parse(itemRecord(shoppingListRowProjection, 'l-1', shared))!,
    ]);
    expect(whileShared.map((p) => p.connectionId).sort()).toEqual([
      'admin',
      'alice',
      'bob',
      'support',
    ]);
    // Checked on every push: the subscription bob made while shared is still stored.
    const afterUnshare = await pushedTo('shopping-list#l-1', [
      parse(itemRecord(shoppingListRowProjection, 'l-1', unshared))!,
    ]);
    expect(afterUnshare.map((p) => p.connectionId).sort()).toEqual(['admin', 'alice', 'support']);
  });
});

describe('a subscribe', () => {
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  /** The connections handler over a projections table holding alice's order `o-1`. */
  const setup = () => {
    const stored: Subscription[] = [];
    const rows = new Map<string, StoredRow>([
      [
        storedKey(orderViewProjection, 'o-1'),
        {
          key: storedKey(orderViewProjection, 'o-1'),
          view: alicesOrder,
          applied: { 'o-1': 1 },
          rev: 1,
        } as StoredRow,
      ],
    ]);
    const handler = createWebSocketHandler({
      subscriptions: {
        add: async (subscription) => {
          stored.push(subscription);
          return 'added';
        },
        remove: async () => undefined,
        connectionsOf: async () => [],
        subscribersOf: async () => [],
        removeConnection: async () => 0,
      },
      versions: createViewVersions(pushed, {
        get: async (key: string) => rows.get(key),
      } as unknown as ProjectionRowStore),
      logger: new Logger({ logLevel: 'SILENT' }),
      collections: PUSHED_COLLECTIONS,
    });
    /** What the $connect authorizer returned for the connection, as API Gateway passes it on. */
    const subscribe = async (id: string, authorizer: Record<string, unknown> | undefined) => {
      const event = {
        body: JSON.stringify({ action: 'subscribe', collection: 'orders', id }),
        isBase64Encoded: false,
        requestContext: {
          routeKey: 'subscribe',
          connectionId: 'conn-1',
          // Connected now: the connection outlives a token valid for another hour.
          connectedAt: Date.now(),
          ...(authorizer && { authorizer }),
        },
      } as unknown as WebSocketEvent;
      return JSON.parse((await handler(event)).body ?? 'null') as Record<string, unknown>;
    };
    return { stored, subscribe };
  };
  const identity = (principal: Principal, exp = inAnHour()) => ({
    principalId: principal.subject,
    sub: principal.subject,
    roles: principal.roles.join(','),
    exp,
  });

  test("given alice's order, when alice subscribes to it, then it is acknowledged and the subscription records alice", async () => {
    const { stored, subscribe } = setup();
    expect(await subscribe('o-1', identity(alice))).toEqual({
      type: 'subscribed',
      collection: 'orders',
      id: 'o-1',
      version: 1,
    });
    expect(stored).toEqual([expect.objectContaining({ topic: 'order#o-1', principal: alice })]);
  });

  test("given alice's order, when support subscribes to it, then it is acknowledged", async () => {
    const { subscribe } = setup();
    expect(await subscribe('o-1', identity(support))).toMatchObject({ type: 'subscribed' });
  });

  test("given alice's order, when bob subscribes to it, then NOT_FOUND as for a missing row, and nothing is stored", async () => {
    const { stored, subscribe } = setup();
    expect(await subscribe('o-1', identity(bob))).toMatchObject({
      type: 'error',
      collection: 'orders',
      id: 'o-1',
      error: { code: 'NOT_FOUND' },
    });
    expect(stored).toEqual([]);
  });

  test('given no row yet, when bob subscribes to its id, then it is acknowledged at version 0 (each push is checked later)', async () => {
    const { subscribe } = setup();
    expect(await subscribe('o-2', identity(bob))).toEqual({
      type: 'subscribed',
      collection: 'orders',
      id: 'o-2',
      version: 0,
    });
  });

  test('given a token that expires before the connection would, when alice subscribes, then the subscription ends with the token', async () => {
    const { stored, subscribe } = setup();
    const exp = inAnHour();
    await subscribe('o-1', identity(alice, exp));
    expect(stored.map((s) => s.expiresAt)).toEqual([exp]);
  });

  test('given a connection whose token has expired, when alice subscribes to her order, then UNAUTHENTICATED and nothing is stored', async () => {
    const { stored, subscribe } = setup();
    expect(
      await subscribe('o-1', identity(alice, Math.floor(Date.now() / 1000) - 1)),
    ).toMatchObject({ type: 'error', id: 'o-1', error: { code: 'UNAUTHENTICATED' } });
    expect(stored).toEqual([]);
  });

  test('given a connection without an identity, when it subscribes, then UNAUTHENTICATED and nothing is stored', async () => {
    const { stored, subscribe } = setup();
    expect(await subscribe('o-1', undefined)).toMatchObject({
      type: 'error',
      error: { code: 'UNAUTHENTICATED' },
    });
    expect(stored).toEqual([]);
  });
});

test('the pushed collections carry their read rules', () => {
  expect(viewOf('orders').canRead).toBe(orderViewProjection.canRead);
  expect(viewOf('shopping-lists').canRead).toBe(shoppingListRowProjection.canRead);
});
