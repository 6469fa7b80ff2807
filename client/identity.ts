/**
 * Who the client acts for: the principal of the ID token the app signed in with, read from the
 * token's payload WITHOUT verifying it. It feeds only the optimistic prediction (which rules
 * allow what, whose order it is) and which outbox entries this user may send; the gateway
 * verifies every request for real. Browser and Node 20+ (`atob`, `TextDecoder`).
 */
import { type Principal, principalFromClaims } from '../lambdas/core/identity/principal';

export type { Principal };

/**
 * Where the API client and the live client get the ID token to send. `refresh: true` asks for
 * a new one: the server refused the last (expired, revoked) or a socket was refused with it.
 * `undefined`: nobody is signed in (requests go without a token; an authenticated API answers
 * 401). Called before every request: cache the token, and share one refresh between callers.
 */
export type TokenProvider = (options?: {
  readonly refresh?: boolean;
}) => string | undefined | Promise<string | undefined>;

/** The JSON payload of a JWT (`header.payload.signature`, base64url), or undefined if it is not one. */
export const decodeTokenPayload = (token: string): Record<string, unknown> | undefined => {
  const part = token.split('.')[1];
  if (part === undefined || part === '') return undefined;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** The principal a token names (`sub` and its roles in `cognito:groups`), unverified. */
export const principalOfToken = (token: string | undefined): Principal | undefined => {
  const claims = token === undefined ? undefined : decodeTokenPayload(token);
  if (!claims) return undefined;
  try {
    return principalFromClaims(claims);
  } catch {
    return undefined;
  }
};

/** When a token expires (ms since epoch, from its `exp`), or undefined if it says nothing. */
export const tokenExpiresAt = (token: string): number | undefined => {
  const exp = decodeTokenPayload(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
};
