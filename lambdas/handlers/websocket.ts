/**
 * The connections function: every route of the WebSocket API (`$connect`, `$disconnect`,
 * `subscribe`, `unsubscribe`, `$default`). Messages in:
 * `{ "action": "subscribe", "collection": "orders", "id": "o-1" }` (any collection of the
 * deployment). Answers out (the route response API Gateway sends back on the socket):
 * `{ "type": "subscribed", "collection", "id", "version" }` (the row's version read after the
 * subscription was stored, 0 when there is no row yet; subscribing again answers the same; past
 * MAX_SUBSCRIPTIONS_PER_CONNECTION rows, `TOO_MANY_SUBSCRIPTIONS`), `{ "type": "unsubscribed", "collection",
 * "id" }`, or `{ "type": "error", "error": { code, message, details } }` (the one error shape),
 * which also carries the `action`, `collection` and `id` of the message when they were strings,
 * so a client can tell which subscription failed; an error never closes the socket. Message
 * answers are always status 200: the status of a route response is not visible to a WebSocket
 * client, the `error.code` is.
 */
import { mayRead } from '../core/identity/authorization';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import {
  AppError,
  errorMessageOf,
  internalError,
  unhandledErrorFields,
} from '../core/shared/errors';
import { principalFromClaims, ROLES_CLAIM, UnauthenticatedError } from '../core/identity/principal';
import {
  expiryOf,
  MAX_CONNECTIONS_PER_USER,
  MAX_SUBSCRIPTIONS_PER_CONNECTION,
  type PushedCollection,
  SOCKET_ACTIONS,
  type SubscriptionStore,
  topicOf,
  type UserConnections,
  type ViewVersions,
} from '../core/push/push';
import { AGGREGATE_ID } from './http-edge';
import { parseWith } from './http';

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

export type WebSocketEvent = APIGatewayProxyWebsocketEventV2;

const messageSchema = z.object({
  action: z.enum(SOCKET_ACTIONS),
  collection: z.string().min(1),
  id: z.string().regex(AGGREGATE_ID, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'),
});

export interface WebSocketHandlerDependencies {
  readonly subscriptions: SubscriptionStore;
  readonly logger: Logger;
  /** The collections a socket may follow, each with the view pushed for it (topics `<name>#<id>`). */
  readonly collections: readonly PushedCollection[];
  /** The current version of a followed row: the `version` of the `subscribed` answer. */
  readonly versions: ViewVersions;
  /** @default MAX_SUBSCRIPTIONS_PER_CONNECTION */
  readonly maxSubscriptionsPerConnection?: number;
  /** Each user's open connections, bounded at `$connect`. Absent: not bounded. */
  readonly userConnections?: UserConnections;
  /** @default MAX_CONNECTIONS_PER_USER */
  readonly maxConnectionsPerUser?: number;
}

/**
 * Who the connection is: what the `$connect` authorizer returned (ConnectionIdentity), which API
 * Gateway passes to every route of the connection as `requestContext.authorizer`.
 */
const identityOf = (event: WebSocketEvent) => {
  const context = event.requestContext as WebSocketEvent['requestContext'] & {
    readonly authorizer?: Record<string, unknown>;
  };
  const authorizer = context.authorizer ?? {};
  const principal = principalFromClaims({
    sub: authorizer.sub,
    [ROLES_CLAIM]: authorizer.roles,
  });
  const exp = Number(authorizer.exp);
  if (!Number.isFinite(exp)) throw new UnauthenticatedError();
  return { principal, tokenExpiresAt: exp };
};

const reply = (body: unknown): WebSocketResult => ({ statusCode: 200, body: JSON.stringify(body) });

/** What an error answer echoes of the message: the string fields naming the subscription. */
const ECHOED = ['action', 'collection', 'id'] as const;

const errorReply = (error: AppError, message?: unknown): WebSocketResult => {
  const echoed =
    message && typeof message === 'object'
      ? Object.fromEntries(
          ECHOED.flatMap((field) => {
            const value = (message as Record<string, unknown>)[field];
            return typeof value === 'string' ? [[field, value]] : [];
          }),
        )
      : {};
  return reply({ type: 'error', ...echoed, error: errorMessageOf(error) });
};

const parseBody = (event: WebSocketEvent): unknown => {
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('INVALID_JSON', 'The message is not valid JSON');
  }
};

export const createWebSocketHandler =
  (deps: WebSocketHandlerDependencies) =>
  async (event: WebSocketEvent, context?: Context): Promise<WebSocketResult> => {
    if (context) deps.logger.addContext(context);
    const { routeKey, connectionId, connectedAt } = event.requestContext;
    deps.logger.appendKeys({ connectionId, routeKey });
    /** The message as parsed, echoed in an error answer. */
    let body: unknown;
    try {
      switch (routeKey) {
        case '$connect': {
          // The authorizer verified the token before (./connect-authorizer.ts); each
          // subscription records who made it. Here only the user's connections are counted.
          if (!deps.userConnections) return { statusCode: 200 };
          const { principal, tokenExpiresAt } = identityOf(event);
          const max = deps.maxConnectionsPerUser ?? MAX_CONNECTIONS_PER_USER;
          const opened = await deps.userConnections.open(
            {
              connectionId,
              subject: principal.subject,
              expiresAt: Math.min(expiryOf(connectedAt), tokenExpiresAt),
            },
            max,
            Math.floor(Date.now() / 1000),
          );
          if (!opened) {
            // A non-2xx answer to $connect refuses the connection.
            deps.logger.info('Connection refused: too many connections', { max });
            return { statusCode: 429 };
          }
          return { statusCode: 200 };
        }
        case '$disconnect': {
          const removed = await deps.subscriptions.removeConnection(connectionId);
          deps.logger.info('Disconnected', { removed });
          return { statusCode: 200 };
        }
        case 'subscribe':
        case 'unsubscribe': {
          body = parseBody(event);
          const message = parseWith(messageSchema, body, 'message');
          const followed = deps.collections.find((c) => c.collection === message.collection);
          if (!followed) {
            throw new AppError('NOT_FOUND', `No collection ${message.collection} here`, {
              collection: message.collection,
              collections: deps.collections.map((c) => c.collection),
            });
          }
          const topic = topicOf(followed.view, message.id);
          const { collection, id } = message;
          if (message.action === 'unsubscribe') {
            await deps.subscriptions.remove(topic, connectionId);
            return reply({ type: 'unsubscribed', collection, id });
          }
          const { principal, tokenExpiresAt } = identityOf(event);
          if (tokenExpiresAt * 1000 <= Date.now()) {
            throw new UnauthenticatedError(
              'The token this connection was opened with has expired: reconnect with a fresh one',
            );
          }
          // Refused like an unknown row: never reveal that another user's row exists.
          const current = await deps.versions.currentOf(followed.view, id);
          if (
            current.row !== undefined &&
            !mayRead(followed.view.canRead, principal, current.row)
          ) {
            throw new AppError('NOT_FOUND', `No ${collection} ${id} here`, { collection, id });
          }
          const limit = deps.maxSubscriptionsPerConnection ?? MAX_SUBSCRIPTIONS_PER_CONNECTION;
          const added = await deps.subscriptions.add(
            {
              topic,
              connectionId,
              // The connection's identity ends with its token: no push after it expires.
              expiresAt: Math.min(expiryOf(connectedAt), tokenExpiresAt),
              principal,
            },
            limit,
          );
          if (added === 'full') {
            throw new AppError(
              'TOO_MANY_SUBSCRIPTIONS',
              `This connection already follows ${limit} rows, the most one connection may: unsubscribe from one first`,
              { limit },
            );
          }
          // Read only once the subscription is stored (both reads strongly consistent): a change
          // committed before this read is in `version`, one after it finds the subscription and
          // is pushed. Read first, a change in between would be neither.
          const version = await deps.versions.versionOf(followed.view, id);
          return reply({ type: 'subscribed', collection, id, version });
        }
        default: {
          // `$default`: no route matched the message's `action` (or it was not JSON).
          const sent = parseBody(event);
          const action =
            sent && typeof sent === 'object' && 'action' in sent ? sent.action : undefined;
          throw new AppError('UNKNOWN_ACTION', 'Unknown action; send subscribe or unsubscribe', {
            action: action ?? null,
            actions: [...SOCKET_ACTIONS],
          });
        }
      }
    } catch (error) {
      // A $connect answer is a status, not a message: non-2xx refuses the connection.
      if (error instanceof AppError && routeKey === '$connect') return { statusCode: error.status };
      if (error instanceof AppError) return errorReply(error, body);
      deps.logger.error('Unhandled error', unhandledErrorFields(error));
      if (routeKey === '$connect' || routeKey === '$disconnect') return { statusCode: 500 };
      return errorReply(internalError(), body);
    } finally {
      deps.logger.removeKeys(['connectionId', 'routeKey']);
    }
  };
