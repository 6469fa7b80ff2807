/**
 * The payload 2.0 event a local gateway builds for `POST /commands`, its token's claims passed
 * on: what the coupled function is handed when the bench calls it as a Lambda instance is called
 * (./runners.ts InvokedFunctionRunner), and what the probes that call it in-process send it.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { ROLES_CLAIM } from '../lambdas/core/identity/principal';
import { flattenClaims } from '../local/emulators/gateway';
import { DEV_USERS, type DevUserName } from '../local/emulators/identity-provider';

/** What the gateway passes on of a verified token (`requestContext.authorizer.jwt.claims`). */
export type JwtClaims = Record<string, string>;

export const directEvent = (
  body: string,
  claims: JwtClaims,
): APIGatewayProxyEventV2WithJWTAuthorizer => {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'POST /commands',
    rawPath: '/commands',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: '127.0.0.1' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method: 'POST',
        path: '/commands',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'probe',
      },
      requestId: 'probe',
      routeKey: 'POST /commands',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      authorizer: { jwt: { claims, scopes: [] }, principalId: '', integrationLatency: 0 },
    },
    body,
    isBase64Encoded: false,
  };
};

/**
 * What the local gateway's JWT authorizer passes on for a dev user's ID token (its claims as the
 * local identity provider signs them, flattened as API Gateway does), valid for an hour.
 */
export const devUserClaims = (user: DevUserName): JwtClaims => {
  const now = Math.floor(Date.now() / 1000);
  const { name, roles } = DEV_USERS[user];
  return flattenClaims({
    sub: user,
    ...(roles.length > 0 && { [ROLES_CLAIM]: [...roles] }),
    token_use: 'id',
    'cognito:username': user,
    name,
    auth_time: now,
    iat: now,
    exp: now + 3600,
  });
};
