/**
 * Live updates of one stack on this machine, as in AWS: the subscriptions table, the local
 * WebSocket gateway in front of the connections handler, and a stream poller (the same
 * implementation as the projector's) feeding the projections table's stream to the notifier,
 * whose management-API client posts through the gateway's `@connections` endpoint. The
 * gateway starts before the stack's writers (the projector, the coupled function), which post
 * the rows they write through the same endpoint (runtime.ts). With a token verifier, `$connect` goes through
 * the very authorizer the cloud runs (lambdas/handlers/connect-authorizer.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { TokenVerifier } from '../../lambdas/core/identity/token-verifier';
import {
  NOTIFIER_STREAM_FILTER,
  SOCKET_ACTIONS,
  type SubscriptionStore,
} from '../../lambdas/core/push/push';
import { CONNECT_TOKEN_PARAMETER } from '../../lambdas/handlers/connect-authorizer';
import { ENV } from '../../lambdas/handlers/environment';
import { connectAuthorizerFromEnv } from '../../lambdas/handlers/identity-wiring';
import {
  notifierHandlerFromEnv,
  webSocketHandlerFromEnv,
} from '../../lambdas/handlers/push-wiring';
import {
  type PollerLog,
  startStreamPoller,
  type StreamPoller,
  type StreamPollerOptions,
} from './stream-poller';
import { ensurePushTables } from './tables';
import { type RunningWebSocketGateway, startWebSocketGateway } from './websocket-gateway';

export interface PushOptions {
  /** The stacks' WebSocket ports. Default: the API port + 2 (3003, 3004); 0 when it is 0. */
  readonly ports?: { readonly decoupled?: number; readonly coupled?: number };
  /** Close a connection with no message for this long. Default 10 minutes (API Gateway's). */
  readonly idleTimeoutMs?: number;
  /** Close every connection after this long. Default 2 hours (API Gateway's). */
  readonly maxConnectionMs?: number;
  /**
   * Wraps the connections function's subscription store: tests put a hook between storing a
   * subscription and its acknowledgement. Default: none.
   */
  readonly wrapSubscriptions?: (store: SubscriptionStore) => SubscriptionStore;
  /**
   * Run the notifier on the projections table's stream (what pushes the rows no writer posted:
   * a rebuild's, a redrive's, a process's). `false`: tests of the writers' own pushes. Default
   * true.
   */
  readonly notifier?: boolean;
}

export interface StartPushConfig {
  /** e.g. `decoupled`: names the functions and the log lines. */
  readonly stack: string;
  readonly host: string;
  readonly port: number;
  /** DynamoDB Local's endpoint. */
  readonly endpoint: string;
  readonly projectionsTable: string;
  readonly subscriptionsTable: string;
  /** SERVED_PROJECTION_VERSIONS: the notifier pushes the versions the queries serve. */
  readonly servedProjectionVersions?: string;
  readonly idleTimeoutMs?: number;
  readonly maxConnectionMs?: number;
  readonly wrapSubscriptions?: PushOptions['wrapSubscriptions'];
  readonly notifier?: boolean;
  /** The notifier's event source mapping (the same settings as the projector's). */
  readonly poller?: StreamPollerOptions;
  readonly loggerFor: (serviceName: string) => Logger;
  readonly pollerLog?: PollerLog;
  /** Connection events, one line each; omit for none. */
  readonly log?: (line: string) => void;
  /**
   * `$connect`'s authorizer checks tokens with this (the dev identity provider's keys), for
   * this issuer and audience (TOKEN_ISSUER, TOKEN_AUDIENCE). Omit for an open `$connect`.
   */
  readonly identity?: {
    readonly verifyToken: TokenVerifier;
    readonly issuer: string;
    readonly audience: string;
  };
}

export interface RunningPush {
  /** `ws://host:port` */
  readonly url: string;
  /** The `@connections` endpoint (the stage's callback URL). */
  readonly managementUrl: string;
  readonly gateway: RunningWebSocketGateway;
  /** The notifier's poller: the projections table's stream (every collection's view). */
  readonly pollers: readonly StreamPoller[];
  /** Stops the pollers, then closes the connections and the gateway. */
  stop(): Promise<void>;
}

/** The WebSocket port of a stack whose API listens on `apiPort`. */
export const pushPortFor = (apiPort: number, configured?: number): number =>
  configured ?? (apiPort === 0 ? 0 : apiPort + 2);

export const startPush = async (config: StartPushConfig): Promise<RunningPush> => {
  const client = new DynamoDBClient({
    endpoint: config.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let viewStreamArns: readonly string[];
  try {
    ({ viewStreamArns } = await ensurePushTables(client, config));
  } finally {
    client.destroy();
  }
  const env = {
    [ENV.subscriptionsTable]: config.subscriptionsTable,
    [ENV.dynamoDbEndpoint]: config.endpoint,
    AWS_REGION: 'local',
    ...(config.servedProjectionVersions && {
      [ENV.servedProjectionVersions]: config.servedProjectionVersions,
    }),
  };
  // The connections function reads the pushed rows' versions (its `subscribed` answer).
  const connectionsEnv = {
    ...env,
    [ENV.projectionsTable]: config.projectionsTable,
  };
  const gateway = await startWebSocketGateway({
    handler: webSocketHandlerFromEnv(connectionsEnv, {
      logger: config.loggerFor('connections'),
      ...(config.wrapSubscriptions && { wrapSubscriptions: config.wrapSubscriptions }),
    }),
    routes: SOCKET_ACTIONS,
    host: config.host,
    port: config.port,
    functionName: `${config.stack}-connections`,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConnectionMs: config.maxConnectionMs,
    log: config.log,
    name: `${config.stack} ws`,
    ...(config.identity && {
      authorizer: {
        handler: connectAuthorizerFromEnv(
          {
            [ENV.tokenIssuer]: config.identity.issuer,
            [ENV.tokenAudience]: config.identity.audience,
          },
          { verify: config.identity.verifyToken, logger: config.loggerFor('connect-authorizer') },
        ),
        queryParameter: CONNECT_TOKEN_PARAMETER,
        functionName: `${config.stack}-connect-authorizer`,
      },
    }),
  });
  // One function, two event source mappings, as in AWS.
  const handler = notifierHandlerFromEnv(
    { ...env, [ENV.websocketManagementEndpoint]: gateway.managementUrl },
    { logger: config.loggerFor('notifier') },
  );
  const pollers: StreamPoller[] = [];
  const stopPollers = () => Promise.all(pollers.map((p) => p.stop()));
  try {
    for (const streamArn of config.notifier === false ? [] : viewStreamArns) {
      pollers.push(
        await startStreamPoller({
          ...config.poller,
          // Its failures are its own: not mixed into the projector's on-failure file.
          onFailureFile: undefined,
          endpoint: config.endpoint,
          streamArn,
          handler,
          // The mapping's filter, as lib/constructs/push.ts declares it: rows their writer posted
          // never reach the notifier.
          filters: [NOTIFIER_STREAM_FILTER],
          functionName: `${config.stack}-notifier`,
          log: config.pollerLog,
        }),
      );
    }
  } catch (error) {
    await stopPollers();
    await gateway.close();
    throw error;
  }
  return {
    url: gateway.url,
    managementUrl: gateway.managementUrl,
    gateway,
    pollers,
    async stop() {
      await stopPollers();
      await gateway.close();
    },
  };
};
