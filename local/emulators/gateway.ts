/**
 * A local stand-in for API Gateway HTTP APIs: routes from the same route table as the CDK
 * stacks, each request turned into a payload format 2.0 event, the deployed handler code
 * called with a Lambda-like context, and the result mapped back as API Gateway maps it.
 * What API Gateway or Lambda would refuse gets the answer they give: 404 `Not Found` for an
 * unknown route or method (a trailing slash included), 400 for a request target or path escape
 * that cannot be decoded, 413 over the 10 MB payload limit and over Lambda's 6 MB invoke limit,
 * 500 when the handler throws. No request can end the process: every failure is an answer.
 * With `verifyToken`, every route sits behind API Gateway's JWT authorizer: a request without a
 * valid token gets 401 `{"message":"Unauthorized"}` and never reaches the handler; a valid one
 * reaches it with the claims in `requestContext.authorizer.jwt.claims`, flattened to text.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
} from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Claims } from '../../lambdas/core/identity/principal';
import {
  bearerToken,
  TokenRejectedError,
  type TokenVerifier,
} from '../../lambdas/core/identity/token-verifier';
import { type CorsOptions, handleCors } from './cors';
import { matchRoute, type Route, routeKey } from '../../lambdas/handlers/routes';
import { lambdaContext } from './lambda-context';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** The function that serves a route, and its name (for the Lambda context and the log). */
export interface RouteTarget {
  readonly functionName: string;
  readonly handler: HttpHandler;
}

export interface GatewayOptions {
  /** Which function serves each route (every route of ROUTES must have one). */
  readonly targetFor: (route: Route) => RouteTarget;
  /** Receives one line per request; omit for none. */
  readonly log?: (line: string) => void;
  /** Name shown in the request log, e.g. `decoupled`. */
  readonly name?: string;
  /** CORS as API Gateway's `corsPreflight` answers it (local/emulators/cors.ts). Default: the demo app. */
  readonly cors?: CorsOptions;
  /**
   * The JWT authorizer's checks (signature, `iss`, `aud`, `exp`, `nbf`) on every route; the
   * runtime passes the dev identity provider's. Omit for open routes.
   */
  readonly verifyToken?: TokenVerifier;
}

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * Lambda's limit for a synchronous invoke request: the whole event as JSON (headers and the
 * base64 body included), 6 MiB. API Gateway's own 10 MB limit lets larger bodies through; the
 * invoke then fails and API Gateway answers 413 `Request Too Long`
 * (docs/decisions/local-gateway-payload-2.md).
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * Whether an event with this body can be over MAX_INVOKE_PAYLOAD_BYTES as JSON, so the gateway
 * serializes the event to measure it only then (a stringify per request was a cost of the
 * emulator, not of the function). A bound, never an estimate: JSON escaping makes a byte at most
 * 6 bytes (`\u00XX`), base64 makes 3 bytes 4; the request line and headers (at most
 * `maxHeaderSize`, Node's `--max-http-header-size`) appear at most 3 times in the event (URL as
 * rawPath, path and query; host and user agent twice), and the event's own fields add < 64 KB.
 */
export const mayExceedInvokeLimit = (body: Buffer) =>
  body.length * 6 + maxHeaderSize * 3 * 6 + 64 * 1024 > MAX_INVOKE_PAYLOAD_BYTES;

/**
 * Bodies HTTP APIs pass as text (`isBase64Encoded: false`): `text/*`, `application/json`,
 * `application/xml`, `application/javascript`. Anything else, a missing content type,
 * `application/x-www-form-urlencoded` and `+json` types included, arrives base64-encoded.
 */
export const TEXT_TYPES = /^\s*(text\/|application\/(json|xml|javascript)\s*(;|$))/i;

const gatewayError = (response: ServerResponse, status: number, message: string) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ message }));
};

/**
 * API Gateway's `www-authenticate` on a JWT authorizer's 401: `Bearer` alone when there was no
 * token (RFC 6750 3.1), else the layout AWS documents, `Bearer scope="" error="invalid_token"
 * error_description="..."` (API Gateway developer guide: "Troubleshooting issues with HTTP API JWT
 * authorizers"). The description is left out: ours would be aws-jwt-verify's wording, not API
 * Gateway's, and the reason goes to the request log instead.
 */
export const bearerChallenge = (tokenPresent: boolean) =>
  tokenPresent ? 'Bearer scope="" error="invalid_token"' : 'Bearer';

const unauthorized = (response: ServerResponse, tokenPresent: boolean) => {
  response.writeHead(401, {
    'content-type': 'application/json',
    'www-authenticate': bearerChallenge(tokenPresent),
  });
  response.end(JSON.stringify({ message: 'Unauthorized' }));
};

/** A claim as API Gateway's JWT authorizer hands it on, or `undefined` for a null claim. */
const claimText = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return `[${value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}]`;
  }
  return JSON.stringify(value);
};

/**
 * `requestContext.authorizer.jwt.claims` as API Gateway fills it: every value text; strings as
 * they are, numbers and booleans as their JSON text, arrays as `[a b]` (space-separated in
 * brackets, not JSON), objects as JSON, null claims left out.
 */
export const flattenClaims = (claims: Claims): Record<string, string> => {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    const text = claimText(value);
    if (text !== undefined) flat[name] = text;
  }
  return flat;
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `dd/MMM/yyyy:HH:mm:ss +0000`, the format of `requestContext.time`. English month names from a
 * table: `toLocaleString` with a time zone built an Intl formatter per request (~0.5 ms here).
 */
export const requestTime = (date: Date) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]!}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
};

/** Reads the body, or answers `undefined` once it passes the limit. */
const readBody = (request: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolveBody(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });

/**
 * The request target as a URL: origin-form (`/path?query`, taken literally, so `//a` stays a
 * path) or absolute-form (`http://host/path`). `undefined` for anything else, e.g. a host that
 * WHATWG URL rejects (`http://%zz/`): the gateway answers 400 instead of throwing.
 */
export const parseRequestTarget = (target: string | undefined): URL | undefined => {
  const raw = target ?? '/';
  try {
    const url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
};

/** Builds the payload format 2.0 event API Gateway would send for this request. */
export const toHttpApiEvent = (
  request: IncomingMessage,
  url: URL,
  route: Route,
  pathParameters: Record<string, string>,
  body: Buffer,
  requestId: string,
  claims?: Claims,
): APIGatewayProxyEventV2 => {
  // AWS (payload 2.0): "Duplicate headers are combined with commas"; every header line counts,
  // also those Node would drop or join with ", " (content-type, authorization, user-agent...).
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values === undefined || name === 'cookie') continue;
    headers[name] = values.join(',');
  }
  // AWS: "All cookie headers in the request are combined ... and added to the cookies field".
  const cookies = (request.headersDistinct.cookie ?? [])
    .flatMap((line) => line.split(';'))
    .map((c) => c.trim())
    .filter(Boolean);
  // Own keys only: `?toString=x` must not see Object.prototype.toString.
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  }
  const isText = TEXT_TYPES.test(request.headers['content-type'] ?? '');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
      // What the JWT authorizer passes on; ID tokens carry no `scope`, so `scopes` is null.
      ...(claims && { authorizer: { jwt: { claims: flattenClaims(claims), scopes: null } } }),
    },
    ...(body.length > 0 && {
      body: isText ? body.toString('utf8') : body.toString('base64'),
    }),
    isBase64Encoded: body.length > 0 && !isText,
  };
};

/**
 * Maps a handler's answer as API Gateway does for payload 2.0: a structured result as given
 * (AWS: "each cookie becomes a set-cookie header", next to a `set-cookie` the headers carry;
 * base64 bodies are decoded); anything else is a 200 JSON.
 */
export const writeHandlerResult = (response: ServerResponse, result: APIGatewayProxyResultV2) => {
  const isStructured = typeof result === 'object' && result !== null && 'statusCode' in result;
  const structured: APIGatewayProxyStructuredResultV2 = isStructured
    ? result
    : { statusCode: 200, body: typeof result === 'string' ? result : JSON.stringify(result) };
  const headers: Record<string, string | string[]> = {};
  const setCookies: string[] = [];
  for (const [name, value] of Object.entries(structured.headers ?? {})) {
    if (name.toLowerCase() === 'set-cookie') setCookies.push(String(value));
    else headers[name.toLowerCase()] = String(value);
  }
  setCookies.push(...(structured.cookies ?? []));
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
  if (!isStructured) headers['content-type'] = 'application/json';
  const body = structured.body ?? '';
  const bytes = structured.isBase64Encoded
    ? Buffer.from(body, 'base64')
    : Buffer.from(body, 'utf8');
  response.writeHead(structured.statusCode ?? 200, headers);
  response.end(bytes);
};

export interface RunningGateway {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export const createGateway = (options: GatewayOptions) =>
  createServer((request, response) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const url = parseRequestTarget(request.url);
    // Why the authorizer refused the request: for the log line only, never for the client.
    let refusal: string | undefined;
    response.on('finish', () => {
      if (!options.log) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const correlationId =
        response.getHeader('x-correlation-id') ?? request.headers['x-correlation-id'] ?? '-';
      const target = url ? `${url.pathname}${url.search}` : JSON.stringify(request.url);
      options.log(
        `${options.name ? `[${options.name}] ` : ''}${request.method} ${target} ${response.statusCode} ${ms.toFixed(1)}ms ${String(correlationId)}${refusal ? ` (unauthorized: ${refusal})` : ''}`,
      );
    });
    if (handleCors(request, response, options.cors)) return;
    void (async () => {
      try {
        response.setHeader('apigw-requestid', requestId);
        const body = await readBody(request);
        if (body === undefined) return gatewayError(response, 413, 'Request Entity Too Large');
        if (!url) return gatewayError(response, 400, 'Bad Request');
        const found = matchRoute(request.method ?? 'GET', url.pathname);
        // HTTP APIs answer 404 both for an unknown path and for a method the path lacks.
        if (!found || 'methodAllowed' in found) return gatewayError(response, 404, 'Not Found');
        if ('malformedPath' in found) return gatewayError(response, 400, 'Bad Request');
        const { route, pathParameters } = found.match;
        let claims: Claims | undefined;
        if (options.verifyToken) {
          // The identity source is `$request.header.Authorization`: without it the authorizer
          // is not called at all.
          const token = bearerToken(request.headers.authorization);
          if (!token) {
            refusal = 'no Authorization header';
            return unauthorized(response, false);
          }
          try {
            claims = await options.verifyToken(token);
          } catch (error) {
            if (!(error instanceof TokenRejectedError)) throw error;
            refusal = error.reason;
            return unauthorized(response, true);
          }
        }
        const target = options.targetFor(route);
        const event = toHttpApiEvent(request, url, route, pathParameters, body, requestId, claims);
        if (
          mayExceedInvokeLimit(body) &&
          Buffer.byteLength(JSON.stringify(event)) > MAX_INVOKE_PAYLOAD_BYTES
        ) {
          return gatewayError(response, 413, 'Request Too Long');
        }
        let result: APIGatewayProxyResultV2;
        try {
          result = await target.handler(event, lambdaContext(target.functionName));
        } catch (error) {
          console.error(`${target.functionName} threw:`, error);
          return gatewayError(response, 500, 'Internal Server Error');
        }
        writeHandlerResult(response, result);
      } catch (error) {
        console.error('gateway error:', error);
        if (!response.headersSent) gatewayError(response, 500, 'Internal Server Error');
        else response.destroy();
      }
    })();
  });

/** Starts a gateway on `host:port` (0: a free port). */
export const startGateway = (
  options: GatewayOptions & { host: string; port: number },
): Promise<RunningGateway> =>
  new Promise((resolveStart, reject) => {
    const server = createGateway(options);
    server.keepAliveTimeout = 30_000;
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolveStart({
        url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
        server,
        close: () =>
          new Promise<void>((resolveClose) => {
            server.close(() => resolveClose());
            server.closeAllConnections();
          }),
      });
    });
  });
