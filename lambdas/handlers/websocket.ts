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
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import {
  AppError,
  errorMessageOf,
  internalError,
  unhandledErrorFields,
} from '../core/shared/errors';
import {
  expiryOf,
  MAX_SUBSCRIPTIONS_PER_CONNECTION,
  type PushedCollection,
  SOCKET_ACTIONS,
  type SubscriptionStore,
  topicOf,
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
}

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
        case '$connect':
          // Authorization happened before (IAM on $connect); nothing is stored per connection.
          return { statusCode: 200 };
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
          const limit = deps.maxSubscriptionsPerConnection ?? MAX_SUBSCRIPTIONS_PER_CONNECTION;
          const added = await deps.subscriptions.add(
            { topic, connectionId, expiresAt: expiryOf(connectedAt) },
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
      if (error instanceof AppError) return errorReply(error, body);
      deps.logger.error('Unhandled error', unhandledErrorFields(error));
      if (routeKey === '$connect' || routeKey === '$disconnect') return { statusCode: 500 };
      return errorReply(internalError(), body);
    } finally {
      deps.logger.removeKeys(['connectionId', 'routeKey']);
    }
  };
