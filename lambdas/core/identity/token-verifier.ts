/**
 * The port every token check goes through: the local gateways (the JWT authorizer's checks) and
 * the WebSocket `$connect` authorizer. The adapter is ./jwt-verifier.ts (aws-jwt-verify).
 */
import { RecentlyUsed } from '../shared/recently-used';
import type { Claims } from './principal';

/** A token's verified claims; `exp` is in seconds since the epoch, as in the token. */
export type VerifiedClaims = Claims & { readonly sub: string; readonly exp: number };

/** Resolves the verified claims, or rejects with TokenRejectedError (never other claims). */
export type TokenVerifier = (token: string) => Promise<VerifiedClaims>;

/** Why a token was refused, for the log only: clients always get the same bare 401. */
export class TokenRejectedError extends Error {
  constructor(readonly reason: string) {
    super(`Token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

/** The token of an `Authorization` header as API Gateway reads it: `Bearer <jwt>` or `<jwt>`. */
export const bearerToken = (header: string | undefined): string | undefined => {
  const value = header?.trim();
  if (!value) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value);
  return match ? match[1] : value;
};

/**
 * A verifier that remembers the tokens it accepted, each until its `exp`: a client that sends
 * the same token with every request pays for one signature check, not one per request. Keyed by
 * the whole token, signature included, so only the very bytes once verified are answered from
 * memory; a refusal is not remembered. The answers are the same as the wrapped verifier's, but
 * for one case: a key withdrawn from the issuer's JWKS still passes the tokens already seen
 * until they expire. The local gateways use it (docs/decisions/identity.md).
 */
export const rememberingVerifier = (
  verify: TokenVerifier,
  options: {
    /** Tokens kept at most (least recently used dropped first). @default 1000 */
    readonly limit?: number;
    /** Milliseconds since the epoch. @default Date.now */
    readonly now?: () => number;
  } = {},
): TokenVerifier => {
  const accepted = new RecentlyUsed<string, VerifiedClaims>(options.limit ?? 1_000);
  const now = options.now ?? Date.now;
  return async (token) => {
    const known = accepted.get(token);
    // From its `exp` on, the verifier is asked again (and refuses it).
    if (known && now() < known.exp * 1000) return known;
    accepted.delete(token);
    const claims = await verify(token);
    accepted.set(token, claims);
    return claims;
  };
};
