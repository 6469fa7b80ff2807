/** API Gateway HTTP API (payload 2.0) events as AWS sends them, for calling handlers directly. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResult } from '../../lambdas/handlers/http';

export interface RequestSpec {
  readonly routeKey: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** Raw body text (wins over `body`). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export const httpEvent = (spec: RequestSpec): APIGatewayProxyEventV2 => {
  const [method, pattern] = spec.routeKey.split(' ') as [string, string];
  const path = pattern.replace(
    /\{(\w+)\}/g,
    (_m, name: string) => spec.pathParameters?.[name] ?? '',
  );
  const rawQueryString = new URLSearchParams(spec.query ?? {}).toString();
  const body = spec.rawBody ?? (spec.body === undefined ? undefined : JSON.stringify(spec.body));
  return {
    version: '2.0',
    routeKey: spec.routeKey,
    rawPath: path,
    rawQueryString,
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...spec.headers,
    },
    ...(spec.query && { queryStringParameters: spec.query }),
    ...(spec.pathParameters && { pathParameters: spec.pathParameters }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'request-id',
      routeKey: spec.routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1767225600000,
    },
    body,
    isBase64Encoded: false,
  };
};

export const command = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  httpEvent({ routeKey: 'POST /commands', body, headers });

export const bodyOf = <T = Record<string, unknown>>(result: HttpResult): T =>
  JSON.parse(result.body) as T;
