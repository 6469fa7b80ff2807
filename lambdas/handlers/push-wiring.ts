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
import { createNotifier, type PostToConnection, type SubscriptionStore } from '../core/push/push';
import { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import { servedProjections } from '../core/projections/served-versions';
import { COLLECTIONS, PROJECTIONS, PUSHED_COLLECTIONS } from './deployment';
import { documentClient } from './document-client';
import { ENV, type Environment, requireEnv } from './environment';
import { createNotifierHandler, type PushedRows, rowRecordParser } from './notifier';
import { createViewVersions } from './view-versions';
import { createWebSocketHandler } from './websocket';

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
  return async (connectionId, data) => {
    await client.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }),
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
