/** API Gateway HTTP API (payload 2.0) events as AWS sends them, for calling handlers directly. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResult } from '../../lambdas/handlers/http';
import { type Principal, ROLES_CLAIM } from '../../lambdas/core/identity/principal';

export interface RequestSpec {
  readonly routeKey: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** Raw body text (wins over `body`). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  /**
   * Who the JWT authorizer verified, as API Gateway passes it on (claims as text). Default
   * TEST_ADMIN; `null`: no authorizer context at all.
   */
  readonly principal?: Principal | null;
}

/** The caller of handler tests that are not about permissions: an admin, refused nothing. */
export const TEST_ADMIN: Principal = { subject: 'test-admin', roles: ['admin'] };

/** `requestContext.authorizer` as API Gateway's JWT authorizer fills it (arrays as `[a b]`). */
export const jwtAuthorizerContext = (principal: Principal) => ({
  jwt: {
    claims: {
      sub: principal.subject,
      ...(principal.roles.length > 0 && { [ROLES_CLAIM]: `[${principal.roles.join(' ')}]` }),
    },
    scopes: null,
  },
});

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
      ...(spec.principal !== null && {
        authorizer: jwtAuthorizerContext(spec.principal ?? TEST_ADMIN),
      }),
    },
    body,
    isBase64Encoded: false,
  };
};

export const command = (
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  principal?: Principal | null,
) => httpEvent({ routeKey: 'POST /commands', body, headers, principal });

export const bodyOf = <T = Record<string, unknown>>(result: HttpResult): T =>
  JSON.parse(result.body) as T;
