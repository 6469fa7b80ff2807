/**
 * Who is signed in to the demo, and how: the OAuth 2.0 authorization code flow with PKCE against
 * the Cognito hosted UI of a deployed stack, or the dev identity provider's stand-in for it (the
 * same endpoints, so the same code runs locally and deployed). The ID and refresh tokens are kept
 * in localStorage (a reload, even offline, stays signed in and keeps the user's outbox); the
 * token provider the client asks before every request renews the ID token with the refresh
 * token. Signing out forgets the user: their session and tokens, their saved views and activity,
 * and their outbox databases.
 */
import { principalOfToken, tokenExpiresAt, type TokenProvider } from '../client';
import type { StackName } from './store';

/** Where and as which app client the page signs in (config.json's `identity`). */
export interface HostedSignIn {
  /** The hosted UI's URL: `<signInUrl>/oauth2/authorize` and `/oauth2/token`. */
  readonly signInUrl: string;
  /** The app client id (public: no secret). */
  readonly clientId: string;
}

export interface DevUser {
  readonly user: string;
  readonly name?: string;
  readonly roles: readonly string[];
}

export interface Session {
  /** The token's subject: whose outbox, views and rows these are. */
  readonly user: string;
  readonly idToken: string;
  /** Renews the ID token without the user (absent: sign in again when it expires). */
  readonly refreshToken?: string;
}

const SESSION_KEY = 'demo:session';
/** The sign-in under way (state, PKCE verifier, where to come back to): this tab only. */
const PENDING_SIGN_IN_KEY = 'demo:sign-in';

/** A token this close to its expiry is refreshed before it is sent. */
const EXPIRY_MARGIN_MS = 60_000;

const asJson = async <T>(response: Response, what: string): Promise<T> => {
  if (!response.ok) {
    // OAuth errors are `{ "error": "invalid_grant" }`; say which.
    const detail = await response
      .json()
      .then((body: { error?: unknown }) =>
        typeof body.error === 'string' ? `, ${body.error}` : '',
      )
      .catch(() => '');
    throw new Error(`${what}: HTTP ${response.status}${detail}`);
  }
  return (await response.json()) as T;
};

/** The dev users (`GET <idp>/users`: `{ users: [...] }`, or a bare list). */
export const listUsers = async (idpUrl: string): Promise<DevUser[]> => {
  const answer = await asJson<{ users?: DevUser[] } | DevUser[]>(
    await fetch(`${idpUrl}/users`),
    'The sign-in list',
  );
  return Array.isArray(answer) ? answer : (answer.users ?? []);
};

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomText = (byteCount: number) =>
  base64url(crypto.getRandomValues(new Uint8Array(byteCount)));

/** PKCE S256: base64url(SHA-256(verifier)). */
const challengeOf = async (verifier: string) =>
  base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );

/** The callback URL registered for the app client: the page's origin and `/`. */
const redirectUri = () => `${location.origin}/`;

interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
  /** The query and hash to restore after the round trip (e.g. `?stack=coupled#lists`). */
  readonly returnTo: string;
}

/**
 * Leaves for the hosted sign-in page (authorization code + PKCE). `loginHint` names a user;
 * the dev identity provider signs a dev user named so in at once (the one-click list).
 */
export const startHostedSignIn = async (hosted: HostedSignIn, loginHint?: string) => {
  const pending: PendingSignIn = {
    state: randomText(16),
    verifier: randomText(32),
    returnTo: `${location.search}${location.hash}`,
  };
  sessionStorage.setItem(PENDING_SIGN_IN_KEY, JSON.stringify(pending));
  const authorize = new URL(`${hosted.signInUrl}/oauth2/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: hosted.clientId,
    redirect_uri: redirectUri(),
    state: pending.state,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
    scope: 'openid email profile',
    ...(loginHint !== undefined && { login_hint: loginHint }),
  })) {
    authorize.searchParams.set(name, value);
  }
  location.assign(authorize.toString());
};

interface TokenAnswer {
  readonly id_token: string;
  readonly refresh_token?: string;
}

const postTokenForm = async (hosted: HostedSignIn, form: Record<string, string>, what: string) =>
  asJson<TokenAnswer>(
    await fetch(`${hosted.signInUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: hosted.clientId, ...form }),
    }),
    what,
  );

const sessionOf = (idToken: string, refreshToken?: string): Session => {
  const user = principalOfToken(idToken)?.subject;
  if (!user) throw new Error('Signing in: the identity provider answered no usable ID token');
  return { user, idToken, ...(refreshToken !== undefined && { refreshToken }) };
};

/**
 * The end of the round trip: when the page was opened with `?code=&state=`, trades the code for
 * tokens, saves the session and puts the page's own URL back. Undefined when this page load is
 * not a sign-in's return; throws when it is one that failed (state not ours, code refused).
 */
export const completeHostedSignIn = async (hosted: HostedSignIn): Promise<Session | undefined> => {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (code === null && error === null) return undefined;
  const pending = JSON.parse(
    sessionStorage.getItem(PENDING_SIGN_IN_KEY) ?? 'null',
  ) as PendingSignIn | null;
  sessionStorage.removeItem(PENDING_SIGN_IN_KEY);
  // The code and state are single use: out of the address bar and history at once.
  history.replaceState(null, '', `/${pending?.returnTo ?? ''}`);
  if (error !== null) throw new Error(`Signing in: ${error}`);
  if (!pending || params.get('state') !== pending.state) {
    throw new Error('Signing in: this answer is not for a sign-in this tab started');
  }
  const answer = await postTokenForm(
    hosted,
    {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    },
    'Signing in',
  );
  const session = sessionOf(answer.id_token, answer.refresh_token);
  saveSession(session);
  return session;
};

export const savedSession = (): Session | undefined => {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return saved && typeof saved.user === 'string' && typeof saved.idToken === 'string'
      ? saved
      : undefined;
  } catch {
    return undefined;
  }
};

const saveSession = (session: Session) =>
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));

/**
 * The client's token provider for a session: the saved token while it is valid, a new one from
 * the refresh token when it is about to expire or the server refused it (one request shared by
 * every caller). Offline, or with no refresh token, the saved token is answered as it is: the
 * server's answer decides, and the commands wait in the outbox.
 */
export const tokenProviderOf = (hosted: HostedSignIn, session: Session): TokenProvider => {
  let token = session.idToken;
  let refreshing: Promise<string> | undefined;
  const renew = async () => {
    if (session.refreshToken === undefined) return token;
    const answer = await postTokenForm(
      hosted,
      { grant_type: 'refresh_token', refresh_token: session.refreshToken },
      'Renewing the sign-in',
    );
    return answer.id_token;
  };
  const refresh = () =>
    (refreshing ??= renew()
      .then((fresh) => {
        token = fresh;
        // Only while this user is still the one signed in (not after a sign-out).
        if (savedSession()?.user === session.user) saveSession({ ...session, idToken: fresh });
        return fresh;
      })
      .finally(() => (refreshing = undefined)));
  return async (options) => {
    const expiresAt = tokenExpiresAt(token) ?? 0;
    if (options?.refresh || expiresAt - Date.now() < EXPIRY_MARGIN_MS) {
      // Unreachable IdP (offline): the old token; the server's answer decides.
      return refresh().catch(() => token);
    }
    return token;
  };
};

/** The user's roles as the token says (for what the page offers; the server decides). */
export const rolesOf = (session: Session) => principalOfToken(session.idToken)?.roles ?? [];

/** localStorage keys of one user's data all start with this. */
export const userKeyPrefix = (user: string) => `demo:u:${encodeURIComponent(user)}:`;

/** The IndexedDB database, lock and channel name of a user's outbox on a stack. */
export const clientNameOf = (stack: StackName, user: string) =>
  `orders-demo-${stack}-${encodeURIComponent(user)}`;

const deleteDatabase = (name: string) =>
  new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });

/**
 * Nothing of `user` stays in this browser: the session (tokens included), their saved views, activity and known
 * ids (localStorage), the open order or list (sessionStorage), and their outbox database on
 * every stack (the client has removed their entries already; this drops the database itself).
 */
export const forgetUser = async (user: string, stacks: readonly StackName[]) => {
  // The session holds the ID and refresh tokens: gone with it.
  if (savedSession()?.user === user) localStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(PENDING_SIGN_IN_KEY);
  const prefix = userKeyPrefix(user);
  for (const storage of [localStorage, sessionStorage]) {
    const keys = Array.from({ length: storage.length }, (_, i) => storage.key(i));
    for (const key of keys) if (key?.startsWith(prefix)) storage.removeItem(key);
  }
  await Promise.all(stacks.map((stack) => deleteDatabase(clientNameOf(stack, user))));
};
