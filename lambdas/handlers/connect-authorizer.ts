/**
 * The WebSocket `$connect` authorizer (a Lambda REQUEST authorizer: WebSocket APIs have no JWT
 * authorizer). It verifies the same token the HTTP routes take, with the same verifier, read
 * from `?token=` (a browser cannot set headers on a WebSocket). API Gateway hands the context it
 * returns to every route of the connection as `requestContext.authorizer`; the connections
 * function reads the principal and the token's expiry from there (./websocket.ts). The local
 * WebSocket gateway calls this very handler.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { principalFromClaims } from '../core/identity/principal';
import { TokenRejectedError, type TokenVerifier } from '../core/identity/token-verifier';

/** The query parameter that carries the token (the authorizer's identity source). */
export const CONNECT_TOKEN_PARAMETER = 'token';

/** What the authorizer passes on: API Gateway allows only string, number and boolean values. */
export interface ConnectionIdentity {
  readonly sub: string;
  /** Comma-separated roles (claimList reads them back). */
  readonly roles: string;
  /** The token's `exp` (epoch seconds): the connection's identity ends there. */
  readonly exp: number;
}

export interface ConnectAuthorizerDependencies {
  readonly verify: TokenVerifier;
  readonly logger: Logger;
}

/**
 * API Gateway answers 401 when the authorizer throws exactly `Unauthorized`, and 403 for a Deny
 * policy; a refused token is a 401, like the HTTP routes' JWT authorizer.
 */
export const createConnectAuthorizer =
  (deps: ConnectAuthorizerDependencies) =>
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = event.queryStringParameters?.[CONNECT_TOKEN_PARAMETER];
    if (!token) throw new Error('Unauthorized');
    try {
      const claims = await deps.verify(token);
      const principal = principalFromClaims(claims);
      const context: ConnectionIdentity = {
        sub: principal.subject,
        roles: principal.roles.join(','),
        exp: claims.exp,
      };
      return {
        principalId: principal.subject,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context: { ...context },
      };
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      deps.logger.info('Connection refused', { reason: error.reason });
      throw new Error('Unauthorized');
    }
  };
