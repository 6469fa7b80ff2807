/**
 * A local stand-in for an API Gateway WebSocket API and its connection-management endpoint, on
 * one port (as in AWS, where both live under the stage URL):
 *
 * - `ws://host:port`: `$connect` runs the route's REQUEST authorizer, if any, then the handler,
 *   before the upgrade (a refusal or a non-2xx answer refuses it), each message goes to the
 *   route its `action` names (`$request.body.action`) or to `$default`, the route response body
 *   is sent back, `$disconnect` runs after any close;
 * - `POST`, `GET`, `DELETE` `http://host:port/@connections/{id}`, the calls the SDK's
 *   ApiGatewayManagementApiClient makes with `endpoint` set here: 410 GoneException for a
 *   closed or unknown connection, 413 over the 128 KB message limit;
 * - API Gateway's limits: 128 KB per message in (close code 1009), the idle timeout (10 min,
 *   only data messages count: API Gateway ignores ping frames) and the maximum connection time
 *   (2 h), both configurable for tests.
 *
 * The authorizer is called as API Gateway calls a Lambda REQUEST authorizer on `$connect`: not
 * at all when the identity source (a query parameter) is missing (401); a thrown `Unauthorized`
 * is 401, a Deny policy 403, any other failure 500. On Allow, `principalId` and the returned
 * `context` become `requestContext.authorizer` of `$connect` and of every later event of the
 * connection.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { WEBSOCKET_LIMITS } from '../../lambdas/core/push/push';
import type { WebSocketEvent, WebSocketResult } from '../../lambdas/handlers/websocket';
import { lambdaContext } from './lambda-context';

export type WebSocketHandler = (
  event: WebSocketEvent,
  context: Context,
) => Promise<WebSocketResult | void>;

/** A Lambda REQUEST authorizer, e.g. lambdas/handlers/connect-authorizer.ts. */
export type ConnectAuthorizer = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface ConnectAuthorizerConfig {
  readonly handler: ConnectAuthorizer;
  /** The identity source, `route.request.querystring.<name>`: this query parameter's name. */
  readonly queryParameter: string;
  /** The function name the authorizer sees in its context. @default `connect-authorizer` */
  readonly functionName?: string;
}

/** What API Gateway hands every route of an authorized connection. */
export type ConnectionAuthorizerContext = Readonly<
  Record<string, string | number | boolean | null | undefined>
> & { readonly principalId: string };

export interface WebSocketGatewayOptions {
  readonly handler: WebSocketHandler;
  /** The `$connect` route's authorizer. Omit for an open `$connect`. */
  readonly authorizer?: ConnectAuthorizerConfig;
  /** Route keys besides `$connect`, `$disconnect` and `$default`. */
  readonly routes: readonly string[];
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** The function name the handler sees in its context. */
  readonly functionName?: string;
  /** @default 10 minutes */
  readonly idleTimeoutMs?: number;
  /** @default 2 hours */
  readonly maxConnectionMs?: number;
  /** One line per connection event; omit for none. */
  readonly log?: (line: string) => void;
  /** Name shown in the log, e.g. `decoupled`. */
  readonly name?: string;
}

export interface RunningWebSocketGateway {
  /** `ws://host:port` */
  readonly url: string;
  /** `http://host:port`: the management API's endpoint (the stage's callback URL). */
  readonly managementUrl: string;
  /** Ids of the open connections. */
  connectionIds(): string[];
  /** Closes every connection (their `$disconnect` runs) and the server. */
  close(): Promise<void>;
}

export const WEBSOCKET_GATEWAY_DEFAULTS = {
  idleTimeoutMs: WEBSOCKET_LIMITS.idleTimeoutSeconds * 1000,
  maxConnectionMs: WEBSOCKET_LIMITS.maxConnectionSeconds * 1000,
} as const;

/** API Gateway closes idle and expired connections with 1001 (going away). */
const GOING_AWAY = 1001;

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly authorizer?: ConnectionAuthorizerContext;
  idleTimer?: NodeJS.Timeout;
  readonly maxTimer: NodeJS.Timeout;
}

/** Ids shaped like API Gateway's (base64, 16 characters), safe in a URL path. */
const newConnectionId = () =>
  randomBytes(10).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

const sendJson = (response: ServerResponse, status: number, body?: unknown, errorType?: string) => {
  response.writeHead(status, {
    'content-type': 'application/json',
    // The header the SDK reads the exception's `name` from.
    ...(errorType && { 'x-amzn-errortype': errorType }),
  });
  response.end(body === undefined ? undefined : JSON.stringify(body));
};

const readBody = (request: IncomingMessage, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolveBody(size > limit ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** Ends a refused upgrade with a status and API Gateway's JSON message. */
const refuseUpgrade = (socket: Duplex, status: number, message?: string) => {
  const body = message === undefined ? '' : JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n` +
      (body
        ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
        : '') +
      `\r\n${body}`,
  );
};

/** IAM's `*` wildcard (any run of characters) against an ARN or action. */
const wildcardMatches = (pattern: string, value: string) => {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^$()|{}[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(value);
};

/**
 * Whether an authorizer's policy lets the caller invoke `methodArn`: a statement allowing
 * `execute-api:Invoke` on it and none denying it (IAM's rule: an explicit Deny wins).
 */
export const policyAllows = (result: APIGatewayAuthorizerResult, methodArn: string): boolean => {
  const applies = (
    statement: APIGatewayAuthorizerResult['policyDocument']['Statement'][number],
  ) => {
    const actions: (string | undefined)[] = 'Action' in statement ? [statement.Action].flat() : [];
    const resources: (string | undefined)[] =
      'Resource' in statement ? [statement.Resource].flat() : [];
    return (
      actions.some(
        (action) => action !== undefined && wildcardMatches(action, 'execute-api:Invoke'),
      ) &&
      resources.some((resource) => resource !== undefined && wildcardMatches(resource, methodArn))
    );
  };
  const statements = (result.policyDocument?.Statement ?? []).filter(applies);
  return (
    statements.some((statement) => statement.Effect === 'Allow') &&
    !statements.some((statement) => statement.Effect === 'Deny')
  );
};

const rawText = (data: RawData): Buffer =>
  Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);

export const startWebSocketGateway = async (
  options: WebSocketGatewayOptions,
): Promise<RunningWebSocketGateway> => {
  const idleTimeoutMs = options.idleTimeoutMs ?? WEBSOCKET_GATEWAY_DEFAULTS.idleTimeoutMs;
  const maxConnectionMs = options.maxConnectionMs ?? WEBSOCKET_GATEWAY_DEFAULTS.maxConnectionMs;
  const functionName = options.functionName ?? 'connections';
  const routes = new Set(options.routes);
  const log = (line: string) => options.log?.(`[${options.name ?? 'ws'}] ${line}`);
  const connections = new Map<string, Connection>();
  const pending = new Set<Promise<unknown>>();
  let host = options.host ?? '127.0.0.1';
  let port = 0;

  const eventFor = (
    routeKey: string,
    eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE',
    connection: {
      id: string;
      connectedAt: number;
      sourceIp: string;
      userAgent: string;
      authorizer?: ConnectionAuthorizerContext;
    },
    extra: Partial<WebSocketEvent> & Record<string, unknown> = {},
  ): WebSocketEvent => {
    const now = new Date();
    const requestId = randomUUID();
    return {
      requestContext: {
        routeKey,
        eventType,
        messageId: eventType === 'MESSAGE' ? randomUUID() : undefined,
        extendedRequestId: requestId,
        requestTime: now.toUTCString(),
        messageDirection: 'IN',
        stage: 'local',
        connectedAt: connection.connectedAt,
        requestTimeEpoch: now.getTime(),
        requestId,
        domainName: `${host}:${port}`,
        connectionId: connection.id,
        apiId: 'local',
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        ...(connection.authorizer && { authorizer: connection.authorizer }),
      } as WebSocketEvent['requestContext'],
      isBase64Encoded: false,
      ...extra,
    } as WebSocketEvent;
  };

  /** Awaits a function call; close() waits for the calls still running. */
  const tracked = async <T>(call: Promise<T>): Promise<T> => {
    pending.add(call);
    try {
      return await call;
    } finally {
      pending.delete(call);
    }
  };

  const invoke = (event: WebSocketEvent) =>
    tracked(options.handler(event, lambdaContext(functionName)));

  /**
   * Runs the `$connect` authorizer as API Gateway does: the context every event of the
   * connection carries, or the status that refuses the upgrade.
   */
  const authorizeConnect = async (
    meta: Parameters<typeof eventFor>[2],
    url: URL,
    headers: Record<string, string | undefined>,
  ): Promise<{ context?: ConnectionAuthorizerContext; refusal?: 401 | 403 | 500 }> => {
    const authorizer = options.authorizer;
    if (!authorizer) return {};
    // The identity source is missing: API Gateway answers 401 without calling the authorizer.
    if (!url.searchParams.get(authorizer.queryParameter)) {
      log(`$connect: no ${authorizer.queryParameter} query parameter`);
      return { refusal: 401 };
    }
    const { requestContext } = eventFor('$connect', 'CONNECT', meta);
    const event = {
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:local:000000000000:${requestContext.apiId}/${requestContext.stage}/$connect`,
      headers,
      multiValueHeaders: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, value?.split(',')]),
      ),
      queryStringParameters: Object.fromEntries(url.searchParams),
      multiValueQueryStringParameters: Object.fromEntries(
        [...new Set(url.searchParams.keys())].map((name) => [name, url.searchParams.getAll(name)]),
      ),
      stageVariables: {},
      requestContext,
    } as unknown as APIGatewayRequestAuthorizerEvent;
    let result: APIGatewayAuthorizerResult;
    try {
      result = await tracked(
        authorizer.handler(event, lambdaContext(authorizer.functionName ?? 'connect-authorizer')),
      );
    } catch (error) {
      // Only this exact message means 401; anything else the authorizer throws is a 500.
      if (error instanceof Error && error.message === 'Unauthorized') return { refusal: 401 };
      log(`$connect authorizer failed: ${String(error)}`);
      return { refusal: 500 };
    }
    if (!policyAllows(result, event.methodArn)) return { refusal: 403 };
    return { context: { ...result.context, principalId: result.principalId } };
  };

  /** Route selection on `$request.body.action`; anything else is `$default`. */
  const routeOf = (text: string): string => {
    try {
      const body: unknown = JSON.parse(text);
      if (body && typeof body === 'object' && 'action' in body) {
        const action = body.action;
        if (typeof action === 'string' && routes.has(action)) return action;
      }
    } catch {
      // not JSON: $default
    }
    return '$default';
  };

  const armIdle = (connection: Connection) => {
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      log(`${connection.id} idle for ${idleTimeoutMs} ms: closed`);
      connection.socket.close(GOING_AWAY, 'Going away');
    }, idleTimeoutMs);
  };

  const onMessage = async (connection: Connection, data: RawData, isBinary: boolean) => {
    connection.lastActiveAt = Date.now();
    armIdle(connection);
    const raw = rawText(data);
    const text = raw.toString('utf8');
    const routeKey = isBinary ? '$default' : routeOf(text);
    const event = eventFor(routeKey, 'MESSAGE', connection, {
      body: isBinary ? raw.toString('base64') : text,
      isBase64Encoded: isBinary,
    });
    try {
      const result = await invoke(event);
      if (result?.body !== undefined && connection.socket.readyState === WebSocket.OPEN) {
        connection.socket.send(result.body);
      }
      log(`${connection.id} ${routeKey}`);
    } catch (error) {
      // What API Gateway sends when the integration fails.
      log(`${connection.id} ${routeKey} failed: ${String(error)}`);
      if (connection.socket.readyState === WebSocket.OPEN) {
        connection.socket.send(
          JSON.stringify({
            message: 'Internal server error',
            connectionId: connection.id,
            requestId: event.requestContext.requestId,
          }),
        );
      }
    }
  };

  const onClose = async (connection: Connection) => {
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.maxTimer);
    connections.delete(connection.id);
    try {
      await invoke(eventFor('$disconnect', 'DISCONNECT', connection));
      log(`${connection.id} $disconnect`);
    } catch (error) {
      log(`${connection.id} $disconnect failed: ${String(error)}`);
    }
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: WEBSOCKET_LIMITS.maxMessageBytes });

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const meta = {
      id: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      userAgent: request.headers['user-agent'] ?? '',
    };
    const url = new URL(request.url ?? '/', 'http://localhost');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
    );
    const { context, refusal } = await authorizeConnect(meta, url, headers);
    if (refusal) {
      const message = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal server error' };
      refuseUpgrade(socket, refusal, message[refusal]);
      log(`$connect refused (${refusal})`);
      return;
    }
    const connecting = { ...meta, ...(context && { authorizer: context }) };
    let status = 500;
    try {
      const result = await invoke(
        eventFor('$connect', 'CONNECT', connecting, {
          headers,
          queryStringParameters: url.searchParams.size
            ? Object.fromEntries(url.searchParams)
            : undefined,
        }),
      );
      status = result?.statusCode ?? 200;
    } catch (error) {
      log(`$connect failed: ${String(error)}`);
    }
    if (status < 200 || status > 299) {
      refuseUpgrade(socket, status);
      log(`$connect refused (${status})`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: Connection = {
        ...connecting,
        socket: ws,
        lastActiveAt: meta.connectedAt,
        maxTimer: setTimeout(() => {
          log(`${meta.id} reached the maximum connection time: closed`);
          ws.close(GOING_AWAY, 'Going away');
        }, maxConnectionMs),
      };
      connections.set(meta.id, connection);
      armIdle(connection);
      log(`${meta.id} $connect`);
      ws.on('message', (data, isBinary) => void onMessage(connection, data, isBinary));
      ws.on('close', () => void onClose(connection));
      ws.on('error', () => undefined);
    });
  };

  const onManagement = async (request: IncomingMessage, response: ServerResponse) => {
    const match = /^\/(?:[^/]+\/)?@connections\/([^/?]+)$/.exec(
      new URL(request.url ?? '/', 'http://localhost').pathname,
    );
    if (!match) return sendJson(response, 404, { message: 'Not Found' });
    const id = decodeURIComponent(match[1]!);
    const connection = connections.get(id);
    const method = request.method ?? 'GET';
    if (!['POST', 'GET', 'DELETE'].includes(method)) {
      return sendJson(response, 404, { message: 'Not Found' });
    }
    const body =
      method === 'POST'
        ? await readBody(request, WEBSOCKET_LIMITS.maxMessageBytes)
        : Buffer.alloc(0);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) {
      return sendJson(response, 410, { message: `Connection ${id} is gone` }, 'GoneException');
    }
    if (method === 'GET') {
      return sendJson(response, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    }
    if (method === 'DELETE') {
      connection.socket.close(1000, 'Deleted');
      return sendJson(response, 204);
    }
    if (!body) {
      return sendJson(
        response,
        413,
        { message: `Message over ${WEBSOCKET_LIMITS.maxMessageBytes} bytes` },
        'PayloadTooLargeException',
      );
    }
    connection.socket.send(body.toString('utf8'));
    return sendJson(response, 200);
  };

  const server: Server = createServer((request, response) => {
    onManagement(request, response).catch((error: unknown) => {
      log(`@connections failed: ${String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { message: 'Internal server error' });
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void onUpgrade(request, socket, head);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const address = server.address();
  if (address && typeof address === 'object') {
    port = address.port;
    host = address.address;
  }
  const base = `${host}:${port}`;

  return {
    url: `ws://${base}`,
    managementUrl: `http://${base}`,
    connectionIds: () => [...connections.keys()],
    async close() {
      for (const connection of connections.values())
        connection.socket.close(GOING_AWAY, 'Going away');
      // Give the closes a moment to run their $disconnect, then cut what is left.
      const deadline = Date.now() + 2000;
      while (connections.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const connection of connections.values()) connection.socket.terminate();
      await Promise.allSettled([...pending]);
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
};
