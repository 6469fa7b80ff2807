/**
 * The sign-in screen: the dev users the identity provider lists (`GET /users`), each signed in
 * with one click (`POST /token`). Customers see their own orders and lists; support reads every
 * order and may cancel one; an admin may do anything.
 */
import { useEffect, useState } from 'react';
import { type DevUser, listUsers, type Session, signIn } from './session';

const describeRoles = (roles: readonly string[]) =>
  roles.length === 0 ? 'customer' : roles.join(', ');

const WHAT_THEY_MAY: Record<string, string> = {
  customer: 'their own orders and lists',
  support: 'reads every order, may cancel one',
  admin: 'may do anything',
};

export const SignIn = ({
  idpUrl,
  onSignedIn,
}: {
  idpUrl: string;
  onSignedIn: (session: Session) => void;
}) => {
  const [users, setUsers] = useState<DevUser[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [signingIn, setSigningIn] = useState<string | undefined>();

  useEffect(() => {
    document.title = 'Sign in · Redux client demo';
    listUsers(idpUrl).then(setUsers, (e: unknown) => setError(String((e as Error).message ?? e)));
  }, [idpUrl]);

  const choose = (user: string) => {
    setSigningIn(user);
    setError(undefined);
    signIn(idpUrl, user).then(onSignedIn, (e: unknown) => {
      setSigningIn(undefined);
      setError(String((e as Error).message ?? e));
    });
  };

  return (
    <main className="sign-in">
      <section className="card sign-in-card" data-testid="sign-in">
        <h1>
          Redux client <span className="muted">demo</span>
        </h1>
        <p className="hint">
          Sign in as one of the development users: each has their own orders, lists and outbox in
          this browser. No password: the local identity provider signs a token for whoever is
          picked.
        </p>
        {error && (
          <p className="notice bad" role="alert">
            {error}
          </p>
        )}
        {!users && !error && <p className="hint">Loading the users…</p>}
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
