/**
 * Tokens for tests that run `npm start` (local/tools/cli.ts) as a process: its gateways refuse
 * every request without one. The dev identity provider's URL is read from the banner, and a
 * token is asked of its `POST /token`, as the demo app signs in (no runtime file involved, so
 * tests running side by side cannot read each other's).
 */
import type { DevUserName } from '../../local/emulators/identity-provider';

/** The dev identity provider's URL in `npm start`'s banner (its `sign in` line). */
export const identityUrlIn = (banner: string): string => {
  const url = /^\s*sign in\s+(http:\/\/\S+)/m.exec(banner)?.[1];
  if (!url) throw new Error(`No "sign in" line with the identity provider's URL in:\n${banner}`);
  return url;
};

/** An ID token of a dev user (default `admin`, refused nothing) from a running identity provider. */
export const devToken = async (
  identityUrl: string,
  user: DevUserName = 'admin',
): Promise<string> => {
  const response = await fetch(`${identityUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  const body = (await response.json()) as { id_token?: string };
  if (response.status !== 200 || typeof body.id_token !== 'string') {
    throw new Error(
      `POST ${identityUrl}/token answered ${response.status}: ${JSON.stringify(body)}`,
    );
  }
  return body.id_token;
};

/** The Authorization header that carries a token. */
export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});
