/** Builds the token verifier and the `$connect` authorizer from the environment (cold start). */
import { Logger } from '@aws-lambda-powertools/logger';
import { createJwtVerifier } from '../core/identity/jwt-verifier';
import type { TokenVerifier } from '../core/identity/token-verifier';
import { createConnectAuthorizer } from './connect-authorizer';
import { ENV, type Environment, requireEnv } from './environment';

export const tokenVerifierFromEnv = (env: Environment): TokenVerifier =>
  createJwtVerifier({
    issuer: requireEnv(env, ENV.tokenIssuer),
    audience: requireEnv(env, ENV.tokenAudience),
  });

export const connectAuthorizerFromEnv = (
  env: Environment,
  options: { readonly verify?: TokenVerifier; readonly logger?: Logger } = {},
) =>
  createConnectAuthorizer({
    verify: options.verify ?? tokenVerifierFromEnv(env),
    logger: options.logger ?? new Logger({ serviceName: 'connect-authorizer' }),
  });
