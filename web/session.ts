/**
 * Who is signed in to the demo, and how: the dev identity provider's users (`GET /users`), a
 * one-click sign-in (`POST /token`), the ID token kept in localStorage (a reload, even offline,
 * stays signed in and keeps the user's outbox), and the token provider the client asks before
 * every request. Locally a "refresh" is simply a new token for the same user (the dev IdP has
 * no passwords); with Cognito it would be the refresh-token grant. Signing out forgets the user:
 * their session, their saved views and activity, and their outbox databases.
 */
import { principalOfToken, tokenExpiresAt, type TokenProvider } from '../client';
import type { StackName } from './store';

export interface DevUser {
  readonly user: string;
  readonly name?: string;
  readonly roles: readonly string[];
}

export interface Session {
  readonly user: string;
  readonly idToken: string;
}

const SESSION_KEY = 'demo:session';

/** A token this close to its expiry is refreshed before it is sent. */
const EXPIRY_MARGIN_MS = 60_000;

const asJson = async <T>(response: Response, what: string): Promise<T> => {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status}`);
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

/** A new ID token for `user` (`POST <idp>/token`). */
export const requestToken = async (idpUrl: string, user: string): Promise<string> => {
  const answer = await asJson<{ id_token: string }>(
    await fetch(`${idpUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    }),
    `Signing in as ${user}`,
  );
  return answer.id_token;
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

export const signIn = async (idpUrl: string, user: string): Promise<Session> => {
  const session = { user, idToken: await requestToken(idpUrl, user) };
  saveSession(session);
  return session;
};

/**
 * The client's token provider for a session: the saved token while it is valid, a new one for
 * the same user when it is about to expire or the server refused it (one request shared by
 * every caller). Offline, the saved token is answered as it is: the commands wait in the outbox.
 */
export const tokenProviderOf = (idpUrl: string, session: Session): TokenProvider => {
  let token = session.idToken;
  let refreshing: Promise<string> | undefined;
  const refresh = () =>
    (refreshing ??= requestToken(idpUrl, session.user)
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
 * Nothing of `user` stays in this browser: the session, their saved views, activity and known
 * ids (localStorage), the open order or list (sessionStorage), and their outbox database on
 * every stack (the client has removed their entries already; this drops the database itself).
 */
export const forgetUser = async (user: string, stacks: readonly StackName[]) => {
  if (savedSession()?.user === user) localStorage.removeItem(SESSION_KEY);
  const prefix = userKeyPrefix(user);
  for (const storage of [localStorage, sessionStorage]) {
    const keys = Array.from({ length: storage.length }, (_, i) => storage.key(i));
    for (const key of keys) if (key?.startsWith(prefix)) storage.removeItem(key);
  }
  await Promise.all(stacks.map((stack) => deleteDatabase(clientNameOf(stack, user))));
};
