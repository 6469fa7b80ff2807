/**
 * The port every token check goes through: the local gateways (the JWT authorizer's checks) and
 * the WebSocket `$connect` authorizer. The adapter is ./jwt-verifier.ts (aws-jwt-verify).
 */
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
