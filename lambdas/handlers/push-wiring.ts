/**
 * Dependencies of the push functions from their environment (see wiring.ts): the Lambda entry
 * points call these at cold start, the local runtime with its own environment.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDbSubscriptions } from '../core/push/dynamodb-subscriptions';
import {
  type ChangedRow,
  changedRowOf,
  createNotifier,
  foldedEventsOf,
  type PostToConnection,
  PUSHED_BY_ATTRIBUTE,
  type RowPusher,
  type SubscriptionStore,
} from '../core/push/push';
import type { Log } from '../core/shared/log';
import { currentSchemaVersion } from '../core/events/event-codec';
import type { EventAction } from '../core/events/events';
import { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import {
  type ProjectionRowStore,
  storageName,
  type StoredRow,
} from '../core/projections/row-projection';
import { servedProjections } from '../core/projections/served-versions';
import { COLLECTIONS, PROJECTIONS, PUSHED_COLLECTIONS } from './deployment';
import { documentClient } from './document-client';
import { ENV, type Environment, requireEnv } from './environment';
import { createNotifierHandler, type PushedRows, rowRecordParser } from './notifier';
import { createViewVersions } from './view-versions';
import { createWebSocketHandler } from './websocket';
import { settleWithin } from '../core/shared/settle-within';

export interface PushWiringOptions {
  readonly logger?: Logger;
  /**
   * Wraps the connections function's subscription store (the local runtime's tests: a hook
   * between storing a subscription and answering it). @default the store as is
   */
  readonly wrapSubscriptions?: (store: SubscriptionStore) => SubscriptionStore;
}

const subscriptionsFor = (env: Environment) =>
  new DynamoDbSubscriptions(documentClient(env), requireEnv(env, ENV.subscriptionsTable));

/**
 * The connections function: it acknowledges a subscription with the row's current version, read
 * from the projections table (PROJECTIONS_TABLE_NAME) at the version the queries serve, as the
 * notifier pushes it.
 */
export const webSocketHandlerFromEnv = (env: Environment, options: PushWiringOptions = {}) => {
  const client = documentClient(env);
  const subscriptions = new DynamoDbSubscriptions(client, requireEnv(env, ENV.subscriptionsTable));
  return createWebSocketHandler({
    subscriptions: options.wrapSubscriptions?.(subscriptions) ?? subscriptions,
    userConnections: subscriptions,
    logger: options.logger ?? new Logger({ serviceName: 'connections' }),
    collections: PUSHED_COLLECTIONS,
    versions: createViewVersions(
      pushedRowsFor(env),
      new DynamoDbProjectionRows(client, requireEnv(env, ENV.projectionsTable)),
    ),
  });
};

/** Posts through the management API; locally the endpoint is the local WebSocket gateway. */
export const postToConnectionFor = (env: Environment): PostToConnection => {
  const local = Boolean(env[ENV.dynamoDbEndpoint]);
  const client = new ApiGatewayManagementApiClient({
    endpoint: requireEnv(env, ENV.websocketManagementEndpoint),
    ...(local && {
      region: env.AWS_REGION ?? 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  return async (connectionId, data, signal) => {
    await client.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }),
      { ...(signal && { abortSignal: signal }) },
    );
  };
};

/**
 * The pushed views: each collection's view at the version its `GET` serves
 * (SERVED_PROJECTION_VERSIONS), so a push is the row a query returns.
 */
export const pushedRowsFor = (env: Environment): PushedRows => {
  const served = servedProjections(PROJECTIONS, env[ENV.servedProjectionVersions]);
  return {
    projections: COLLECTIONS.map(({ view, isDeleted }) => ({
      projection: served.find((p) => p.name === view.name) ?? view,
      ...(isDeleted && { isDeleted }),
    })),
  };
};

export const notifierHandlerFromEnv = (env: Environment, options: PushWiringOptions = {}) => {
  const logger = options.logger ?? new Logger({ serviceName: 'notifier' });
  return createNotifierHandler({
    logger,
    parse: rowRecordParser(pushedRowsFor(env)),
    notify: createNotifier({
      subscriptions: subscriptionsFor(env),
      post: postToConnectionFor(env),
      log: logger,
    }),
  });
};

/**
 * A writer's fan-out (the coupled function, the projector): every subscriber at once, up to
 * this many posts in flight. The 50-subscriber fan-out then costs one round of posts.
 */
export const WRITER_POST_CONCURRENCY = 64;
/**
 * The most a writer waits for its fan-out before it goes on (answers its request, ends its
 * batch): the subscribers' Query and one round of posts take a few ms to tens of ms. The posts
 * still running then go on in the background (each aborted at DEFAULT_POST_TIMEOUT_MS: aborting
 * sooner tears down the sockets the next posts would reuse, and a loaded machine then misses
 * more), which Lambda may freeze with the environment: a push is a hint, and a missed one heals
 * at the client's next subscribe (docs/decisions/push-from-the-writer.md).
 */
export const WRITER_PUSH_BUDGET_MS = 1_000;

/** Posts the rows a writer has just written to their subscribers. */
export interface WriterPush {
  /** What its writes carry in PUSHED_BY_ATTRIBUTE: the notifier then skips those rows. */
  readonly pushedBy: RowPusher;
  /** Never throws; resolves within WRITER_PUSH_BUDGET_MS (failures logged). */
  push(changes: readonly ChangedRow[]): Promise<void>;
}

/**
 * The push of a writer, where its environment names the subscriptions table and the management
 * endpoint (SUBSCRIPTIONS_TABLE_NAME, WEBSOCKET_MANAGEMENT_ENDPOINT); else undefined: its rows are
 * written without the marker, and the notifier pushes them.
 */
export const writerPushFromEnv = (
  env: Environment,
  pushedBy: RowPusher,
  log: Log,
  options: { readonly budgetMs?: number } = {},
): WriterPush | undefined => {
  if (!env[ENV.subscriptionsTable] || !env[ENV.websocketManagementEndpoint]) return undefined;
  const notify = createNotifier({
    subscriptions: subscriptionsFor(env),
    post: postToConnectionFor(env),
    log,
    concurrency: WRITER_POST_CONCURRENCY,
  });
  const budgetMs = options.budgetMs ?? WRITER_PUSH_BUDGET_MS;
  return {
    pushedBy,
    async push(changes) {
      if (changes.length === 0) return;
      const fanOut = notify(changes).then(
        (outcome) => {
          if (outcome.failedChanges.length > 0 || outcome.failedPosts > 0) {
            log.warn('Push after the write incomplete', { pushedBy, ...outcome });
          }
        },
        (error: unknown) => log.warn('Push after the write failed', { error: String(error) }),
      );
      if ((await settleWithin(fanOut, budgetMs)) === 'late') {
        log.warn('Push after the write over its budget: left running', { budgetMs });
      }
    },
  };
};

/**
 * The projector's row store, pushing: a row of a pushed view is written with PUSHED_BY_ATTRIBUTE
 * and posted to its subscribers right after the write, so a push costs one stream hop (the event
 * table's), not two. Every other row, and every read, is the store's own.
 */
export const pushingRowStore = (
  rows: ProjectionRowStore,
  pushed: PushedRows,
  writer: WriterPush,
): ProjectionRowStore => {
  const prefixes = pushed.projections.map((p) => ({
    ...p,
    prefix: `${storageName(p.projection)}#`,
  }));
  const changeOf = (row: StoredRow, folded: readonly EventAction[] | undefined) => {
    const of = prefixes.find((p) => row.key.startsWith(p.prefix));
    if (!of) return undefined;
    const id = row.key.slice(of.prefix.length);
    const version = row.applied[id];
    if (version === undefined) return undefined;
    // The batch's events of the aggregate: the message carries them when that is smaller.
    const events = foldedEventsOf(folded, id, currentSchemaVersion);
    return changedRowOf(of.projection, id, version, row.view, of.isDeleted, events);
  };
  return {
    get: (key) => rows.get(key),
    ...(rows.getMany && { getMany: rows.getMany.bind(rows) }),
    ...(rows.listPage && { listPage: rows.listPage.bind(rows) }),
    async save(row, previousRev, folded) {
      const change = changeOf(row, folded);
      if (!change) return rows.save(row, previousRev);
      await rows.save({ ...row, [PUSHED_BY_ATTRIBUTE]: writer.pushedBy }, previousRev);
      await writer.push([change]);
    },
  };
};
