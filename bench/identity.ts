/**
 * How the benchmark signs in: like any client, with an ID token on every request
 * (`authorization: Bearer`) and on every WebSocket connect (`?token=`). It acts as `admin`, the
 * role refused nothing, so the floor comparison runs the same commands and the figures measure
 * token verification, not refusals.
 *
 * Locally each runtime process has its own identity provider (its own keys), so each profile
 * gets its tokens from the runtime it talks to, over HTTP (`POST /token`), and mints a new one
 * when the current one has under 5 minutes left: a long run never meets an expired token.
 * Against deployed stacks the token is given (`--token` or `BENCH_TOKEN`) and cannot be renewed.
 */
import { decodeTokenPayload, principalOfToken, type TokenProvider } from '../client/identity';
import { hasRole, type Role } from '../lambdas/core/identity/principal';

/** The dev user the bench acts as locally (local/emulators/identity-provider.ts DEV_USERS). */
export const BENCH_USER = 'admin';

/** The role a deployed user needs: the bench creates orders for customers of its own. */
export const BENCH_ROLE: Role = 'admin';

/** A new token is minted when the current one has less than this left. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface BenchTokens {
  /** The token to send now (a cached one; a new one first when under 5 minutes are left). */
  current(): Promise<string>;
  /** The same, as the client library's token provider; `refresh: true` asks for a new one. */
  readonly provider: TokenProvider;
}

/** When a token expires (ms since the epoch), from its `exp`; Infinity if it has none. */
const expiresAtOf = (token: string): number => {
  const exp = decodeTokenPayload(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : Infinity;
};

/**
 * Tokens from `mint`, kept until they have under `refreshBeforeMs` left. Callers that ask
 * while a token is being minted share that one mint. If a renewal fails while the old token is
 * still valid, the old one is used (and the next call tries again).
 */
export const refreshingTokens = (
  mint: () => Promise<string>,
  options: { now?: () => number; refreshBeforeMs?: number } = {},
): BenchTokens => {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? REFRESH_BEFORE_EXPIRY_MS;
  let cached: { token: string; expiresAt: number } | undefined;
  let minting: Promise<string> | undefined;

  const renew = (): Promise<string> =>
    (minting ??= mint()
      .then(
        (token) => {
          cached = { token, expiresAt: expiresAtOf(token) };
          return token;
        },
        (error: unknown) => {
          if (cached && cached.expiresAt > now()) return cached.token;
          throw error;
        },
      )
      .finally(() => (minting = undefined)));

  const current = (): Promise<string> =>
    cached && cached.expiresAt - now() > refreshBeforeMs ? Promise.resolve(cached.token) : renew();

  return {
    current,
    provider: (request) => (request?.refresh ? renew() : current()),
  };
};

/** One token, as given: nothing can renew it (a deployed user pool's ID token). */
export const fixedToken = (token: string): BenchTokens => {
  const answer = Promise.resolve(token);
  return { current: () => answer, provider: () => token };
};

/**
 * A dev user's ID token from a local identity provider (`POST <url>/token`), as `npm run token`
 * asks `npm start`'s.
 */
export const requestDevToken = async (identityUrl: string, user = BENCH_USER): Promise<string> => {
  const response = await fetch(`${identityUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => ({}))) as {
    id_token?: unknown;
    error?: { message?: string };
  };
  if (!response.ok || typeof body.id_token !== 'string') {
    throw new Error(
      `the identity provider at ${identityUrl} gave no token for ${user} (${response.status}: ${body.error?.message ?? 'no id_token'})`,
    );
  }
  return body.id_token;
};

/** Where a deployed user's ID token comes from, for the error messages. */
export const TOKEN_HELP =
  'an ID token of a Cognito user in the admin group of the deployment (docs/operations/deploying.md, "Users and tokens": TOKEN=$(token_of admin))';

/**
 * Why a given token cannot run the bench, or undefined: not a JWT, expired, an access token
 * (API Gateway checks `aud`, which only ID tokens carry), or a user without the admin role.
 * Read without verifying: the gateway verifies; this only saves a run that would fail.
 */
export const tokenProblem = (token: string, now = Date.now()): string | undefined => {
  const claims = decodeTokenPayload(token);
  if (!claims) return 'the token is not a JWT (header.payload.signature)';
  if (claims.token_use !== undefined && claims.token_use !== 'id') {
    return `the token is an ${String(claims.token_use)} token: send the ID token (its aud is the app client id)`;
  }
  const expiresAt = expiresAtOf(token);
  if (expiresAt <= now) {
    return `the token expired at ${new Date(expiresAt).toISOString()}: get a new one`;
  }
  const principal = principalOfToken(token);
  if (!principal) return 'the token names no user (no sub claim)';
  if (!hasRole(principal, BENCH_ROLE)) {
    return `the token's user (${principal.subject}) is not in the ${BENCH_ROLE} group: the bench creates orders for customers of its own, which only an admin may`;
  }
  return undefined;
};

/** Minutes until a token expires (Infinity without `exp`). */
export const minutesLeft = (token: string, now = Date.now()): number =>
  (expiresAtOf(token) - now) / 60_000;

/**
 * Who follows an order in the push sweeps. One user may hold only MAX_CONNECTIONS_PER_USER
 * sockets (lambdas/core/push/push.ts), so a fan-out of more subscribers signs them in as
 * several users, each allowed to read the order: its customer, support and admin locally.
 */
export interface Followers {
  /** The customer the followed order is created for (one of the users may be that customer). */
  readonly customerId: string;
  /** One token source per user; the first is the one a single subscriber uses. */
  readonly users: readonly BenchTokens[];
}

/** The users a local runtime's followers sign in as: every one of them may read the order. */
export const LOCAL_FOLLOWERS = { customerId: 'alice', users: [BENCH_USER, 'support', 'alice'] };

/** Followers signed in with a local runtime's identity provider (tokens minted when first used). */
export const localFollowers = (identityUrl: string, admin: BenchTokens): Followers => ({
  customerId: LOCAL_FOLLOWERS.customerId,
  users: LOCAL_FOLLOWERS.users.map((user) =>
    user === BENCH_USER ? admin : refreshingTokens(() => requestDevToken(identityUrl, user)),
  ),
});
