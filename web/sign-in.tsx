/**
 * The sign-in screen. "Sign in" leaves for the identity provider's hosted page (authorization
 * code + PKCE: Cognito's hosted UI deployed, the dev identity provider's stand-in locally) and
 * comes back signed in. Locally the dev users (`GET /users`) are also offered one click each:
 * the same round trip, naming the user in `login_hint`, which the dev provider honours at once.
 * Customers see their own orders and lists; support reads every order and may cancel one; an
 * admin may do anything.
 */
import { useEffect, useState } from 'react';
import { type DevUser, type HostedSignIn, listUsers, startHostedSignIn } from './session';

const describeRoles = (roles: readonly string[]) =>
  roles.length === 0 ? 'customer' : roles.join(', ');

const WHAT_THEY_MAY: Record<string, string> = {
  customer: 'their own orders and lists',
  support: 'reads every order, may cancel one',
  admin: 'may do anything',
};

const messageOf = (error: unknown) => String((error as Error).message ?? error);

export const SignIn = ({
  hosted,
  devIdpUrl,
  failure,
}: {
  hosted: HostedSignIn;
  /** The dev identity provider's URL, when it is the one (its users are listed). */
  devIdpUrl?: string;
  /** Why the last sign-in did not complete, if it did not. */
  failure?: string;
}) => {
  const [users, setUsers] = useState<DevUser[] | undefined>();
  const [error, setError] = useState<string | undefined>(failure);
  const [signingIn, setSigningIn] = useState<string | undefined>();

  useEffect(() => {
    document.title = 'Sign in · Redux client demo';
    if (devIdpUrl) listUsers(devIdpUrl).then(setUsers, (e: unknown) => setError(messageOf(e)));
  }, [devIdpUrl]);

  const choose = (user?: string) => {
    setSigningIn(user ?? '');
    setError(undefined);
    startHostedSignIn(hosted, user).catch((e: unknown) => {
      setSigningIn(undefined);
      setError(messageOf(e));
    });
  };

  return (
    <main className="sign-in">
      <section className="card sign-in-card" data-testid="sign-in">
        <h1>
          Redux client <span className="muted">demo</span>
        </h1>
        <p className="hint">
          {devIdpUrl
            ? 'Sign in as one of the development users: each has their own orders, lists and ' +
              'outbox in this browser. No password: the local identity provider signs a token ' +
              'for whoever is picked, here or on its sign-in page.'
            : 'Sign in with your account on the sign-in page of the deployment: your orders, ' +
              'lists and outbox in this browser are your own.'}
        </p>
        {error && (
          <p className="notice bad" role="alert">
            {error}
          </p>
        )}
        <button
          type="button"
          className="primary"
          disabled={signingIn !== undefined}
          onClick={() => choose()}
          data-testid="sign-in-hosted"
        >
          {signingIn === '' ? 'Opening the sign-in page…' : 'Sign in'}
        </button>
        {devIdpUrl && !users && !error && <p className="hint">Loading the users…</p>}
        <ul className="user-list">
          {users?.map(({ user, name, roles }) => (
            <li key={user}>
              <button
                type="button"
                className="user-choice"
                disabled={signingIn !== undefined}
                onClick={() => choose(user)}
                data-testid={`sign-in-${user}`}
              >
                <span className="user-name">{name ?? user}</span>
                <span className={`badge role role-${describeRoles(roles)}`}>
                  {describeRoles(roles)}
                </span>
                <span className="user-what muted">
                  {signingIn === user
                    ? 'Signing in…'
                    : (WHAT_THEY_MAY[roles.includes('admin') ? 'admin' : describeRoles(roles)] ??
                      '')}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
};
