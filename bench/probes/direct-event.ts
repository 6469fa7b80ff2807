/**
 * The payload 2.0 event a local gateway builds for `POST /commands`, its token's claims passed
 * on: what the probes that call the coupled handler in-process (no gateway, no HTTP) send it.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

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
