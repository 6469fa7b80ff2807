/**
 * The TokenVerifier adapter: aws-jwt-verify (AWS's own verifier) for any OpenID Connect issuer,
 * Cognito's included. It checks what API Gateway's JWT authorizer checks: the signature against
 * the issuer's JWKS (RS256 and the other algorithms it supports), `iss`, `aud`, `exp` and `nbf`
 * (docs/decisions/identity.md). Errors become TokenRejectedError, whose reason goes to the log.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { TokenRejectedError, type TokenVerifier, type VerifiedClaims } from './token-verifier';

export interface JwtVerifierOptions {
  /** Expected `iss`, e.g. `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
  readonly issuer: string;
  /** Expected `aud`: the app client id. */
  readonly audience: string;
  /** Default: `<issuer>/.well-known/jwks.json`, as Cognito and the dev IdP publish it. */
  readonly jwksUri?: string;
  /**
   * Keys known up front (the local gateways get the dev IdP's in-process): no fetch at all.
   * Otherwise they are fetched once per `kid` and cached.
   */
  readonly jwks?: Jwks;
}

/** Fetches a JWKS with the platform's fetch: http URLs too (the dev IdP on localhost). */
const fetcher = {
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) throw new Error(`GET ${uri} answered ${response.status}`);
    return response.arrayBuffer();
  },
};

export const createJwtVerifier = (options: JwtVerifierOptions): TokenVerifier => {
  const jwksUri = options.jwksUri ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  const cache = new SimpleJwksCache({ fetcher });
  if (options.jwks) cache.addJwks(jwksUri, options.jwks);
  const verifier = JwtVerifier.create(
    { issuer: options.issuer, audience: options.audience, jwksUri },
    { jwksCache: cache },
  );
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as Record<string, unknown>;
    } catch (error) {
      throw new TokenRejectedError(error instanceof Error ? error.message : String(error));
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new TokenRejectedError('the token has no sub claim');
    }
    if (typeof payload.exp !== 'number') throw new TokenRejectedError('the token has no exp claim');
    return payload as VerifiedClaims;
  };
};
