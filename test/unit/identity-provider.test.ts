/**
 * The development identity provider over real HTTP: its OpenID endpoints, the tokens it signs
 * (verified with the verifier the gateways use, fetching the published JWKS), its one error
 * shape, CORS for the demo app; its stand-in for Cognito's hosted UI (authorization code + PKCE,
 * refresh tokens) and the checks of its token endpoint; and how the gateway flattens claims.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { TokenRejectedError } from '../../lambdas/core/identity/token-verifier';
import { flattenClaims } from '../../local/emulators/gateway';
import { DEFAULT_IDENTITY_PORT, identityPortFor } from '../../local/emulators/runtime';
import { parseCli } from '../../local/tools/cli';
import {
  AUTHORIZATION_CODE_TTL_MS,
  DEFAULT_AUDIENCE,
  type RunningIdentityProvider,
  startIdentityProvider,
  UnknownUserError,
} from '../../local/emulators/identity-provider';

const DEMO_ORIGIN = 'http://localhost:3000';

let idp: RunningIdentityProvider;
beforeAll(async () => {
  idp = await startIdentityProvider({ port: 0, cors: { allowOrigins: [DEMO_ORIGIN] } });
});
afterAll(() => idp.close());

const postToken = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${idp.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

const decodePart = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

test('the discovery document names the issuer, its JWKS, its OAuth endpoints, PKCE S256 and RS256', async () => {
  const response = await fetch(`${idp.url}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({
    issuer: idp.issuer,
    jwks_uri: `${idp.issuer}/.well-known/jwks.json`,
    authorization_endpoint: `${idp.issuer}/oauth2/authorize`,
    token_endpoint: `${idp.issuer}/oauth2/token`,
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
  });
  expect(idp.url).toBe(idp.issuer);
  expect(idp.audience).toBe(DEFAULT_AUDIENCE);
});

test('the JWKS publishes one public RSA signing key with a kid, and no private part', async () => {
  const jwks = (await (await fetch(`${idp.url}/.well-known/jwks.json`)).json()) as {
    keys: Record<string, unknown>[];
  };
  expect(jwks.keys).toHaveLength(1);
  expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  expect(typeof jwks.keys[0]!.kid).toBe('string');
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
    expect(jwks.keys[0]).not.toHaveProperty(secret);
  expect(jwks).toEqual(idp.jwks);
});

test('POST /token for alice answers a one-hour ID token that verifies against the published keys', async () => {
  const response = await postToken('{"user":"alice"}');
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    id_token: string;
    token_type: string;
    expires_in: number;
  };
  expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  // No keys given: the verifier fetches the JWKS from the issuer, as in the cloud.
  const verify = createJwtVerifier({ issuer: idp.issuer, audience: idp.audience });
  const claims = await verify(body.id_token);
  expect(claims).toMatchObject({
    sub: 'alice',
    iss: idp.issuer,
    aud: DEFAULT_AUDIENCE,
    token_use: 'id',
    name: 'Alice',
  });
  expect(claims).not.toHaveProperty('cognito:groups');
  expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  expect(decodePart(body.id_token, 0)).toEqual({
    alg: 'RS256',
    typ: 'JWT',
    kid: (idp.jwks.keys[0] as { kid: string }).kid,
  });
});

test('a staff user carries their role in cognito:groups, as Cognito puts a group', () => {
  expect(decodePart(idp.tokenFor('support'), 1)['cognito:groups']).toEqual(['support']);
  expect(decodePart(idp.tokenFor('admin'), 1)['cognito:groups']).toEqual(['admin']);
  expect(decodePart(idp.tokenFor('bob', { roles: ['support'] }), 1)['cognito:groups']).toEqual([
    'support',
  ]);
});

test('GET /users lists the dev users and their roles', async () => {
  const response = await fetch(`${idp.url}/users`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    users: [
      { user: 'alice', name: 'Alice', roles: [] },
      { user: 'bob', name: 'Bob', roles: [] },
      { user: 'support', name: 'Support', roles: ['support'] },
      { user: 'admin', name: 'Admin', roles: ['admin'] },
    ],
  });
});

test.each([
  [
    'an unknown user',
    '{"user":"mallory"}',
    'VALIDATION_FAILED',
    /mallory.*alice, bob, support, admin/,
  ],
  ['no user', '{}', 'VALIDATION_FAILED', /Invalid body/],
  ['a body that is not JSON', 'user=alice', 'INVALID_JSON', /not valid JSON/],
])('POST /token with %s answers 400 in the one error shape', async (_, body, code, message) => {
  const response = await postToken(body);
  expect(response.status).toBe(400);
  const answer = (await response.json()) as {
    error: { code: string; message: string; details: object };
  };
  expect(answer.error).toEqual({
    code,
    message: expect.stringMatching(message),
    details: expect.any(Object),
  });
});

test('an unknown path answers 404 in the one error shape', async () => {
  const response = await fetch(`${idp.url}/authorize`);
  expect(response.status).toBe(404);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
    'ROUTE_NOT_FOUND',
  );
});

test('tokenFor refuses anyone who is not a dev user', () => {
  expect(() => idp.tokenFor('mallory')).toThrow(UnknownUserError);
  expect(() => idp.tokenFor('toString')).toThrow(UnknownUserError);
});

test('the demo app may call /token and /users from its origin; another origin may not read them', async () => {
  const preflight = await fetch(`${idp.url}/token`, {
    method: 'OPTIONS',
    headers: {
      origin: DEMO_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
  const allowed = await postToken('{"user":"bob"}', { origin: DEMO_ORIGIN });
  expect(allowed.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
  const other = await fetch(`${idp.url}/users`, { headers: { origin: 'http://evil.example' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('keys are per process: a token of another provider is refused, even for the same user', async () => {
  const other = await startIdentityProvider({ port: 0 });
  try {
    const verify = createJwtVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
    });
    const foreign = other.tokenFor('alice', { issuer: idp.issuer });
    await expect(verify(foreign)).rejects.toThrow(TokenRejectedError);
    await expect(verify(idp.tokenFor('alice'))).resolves.toMatchObject({ sub: 'alice' });
  } finally {
    await other.close();
  }
});

test('claims are flattened as API Gateway passes them: text, arrays as [a b], no nulls', () => {
  expect(
    flattenClaims({
      sub: 'alice',
      'cognito:groups': ['support', 'admin'],
      exp: 1767225600,
      email_verified: true,
      address: { country: 'FR' },
      nothing: null,
    }),
  ).toEqual({
    sub: 'alice',
    'cognito:groups': '[support admin]',
    exp: '1767225600',
    email_verified: 'true',
    address: '{"country":"FR"}',
  });
});

test('npm start takes the port from --identity-port or IDENTITY_PORT; else 3005, or a free one when the APIs take free ones', () => {
  const portOf = (argv: string[], env = {}) => {
    const parsed = parseCli(argv, env);
    if (parsed.help) throw new Error('help');
    return parsed.options.identityPort;
  };
  expect(portOf(['--identity-port', '4005'])).toBe(4005);
  expect(portOf([], { IDENTITY_PORT: '0' })).toBe(0);
  expect(portOf([])).toBeUndefined();
  expect(() => portOf(['--identity-port', 'x'])).toThrow(/--identity-port must be an integer/);
  expect(identityPortFor([3001, 3002])).toBe(DEFAULT_IDENTITY_PORT);
  expect(identityPortFor([0, 0])).toBe(0);
  expect(identityPortFor([0, 3002])).toBe(DEFAULT_IDENTITY_PORT);
  expect(identityPortFor([0, 0], 4005)).toBe(4005);
});

describe("the hosted sign-in (authorization code + PKCE), as Cognito's hosted UI", () => {
  const CALLBACK = `${DEMO_ORIGIN}/`;
  const newVerifier = () => randomBytes(32).toString('base64url');
  const challengeOf = (verifier: string) =>
    createHash('sha256').update(verifier).digest('base64url');

  const authorizeUrl = (params: Record<string, string>) => {
    const url = new URL(`${idp.url}/oauth2/authorize`);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const authorizeParams = (verifier: string, extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: DEFAULT_AUDIENCE,
    redirect_uri: CALLBACK,
    state: 'state-123',
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    scope: 'openid email profile',
    ...extra,
  });
  /** Where the provider sends the browser back to (a 302), as a URL. */
  const redirectOf = (response: Response) => {
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location')!);
  };
  /** A code for `user`, picked with login_hint (the demo's one-click list). */
  const codeFor = async (user: string, verifier: string) => {
    const response = await fetch(authorizeUrl(authorizeParams(verifier, { login_hint: user })), {
      redirect: 'manual',
    });
    return redirectOf(response).searchParams.get('code')!;
  };
  const postForm = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${idp.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const exchange = (code: string, verifier: string, overrides: Record<string, string> = {}) =>
    postForm({
      grant_type: 'authorization_code',
      client_id: DEFAULT_AUDIENCE,
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
      ...overrides,
    });
  const expectOAuthError = async (response: Response, error: string) => {
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error });
  };

  test('given no login_hint, when the browser opens /oauth2/authorize, then a page lists every dev user and picking one redirects back with a code and the state', async () => {
    const verifier = newVerifier();
    const page = await fetch(authorizeUrl(authorizeParams(verifier)));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    for (const user of ['alice', 'bob', 'support', 'admin'])
      expect(html).toContain(`data-testid="hosted-sign-in-${user}"`);

    // The form posts the request back with the pick, as the page's button does.
    const form = new URLSearchParams({ ...authorizeParams(verifier), user: 'bob' });
    const picked = await fetch(`${idp.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'manual',
    });
    const back = redirectOf(picked);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('state-123');
    const answer = await exchange(back.searchParams.get('code')!, verifier);
    expect(answer.status).toBe(200);
    const tokens = (await answer.json()) as { id_token: string };
    expect(decodePart(tokens.id_token, 1).sub).toBe('bob');
  });

  test('given a code, when it is traded with its verifier, then the ID token verifies for the app client, the access token is one, and the refresh token renews the ID token', async () => {
    const verifier = newVerifier();
    const answer = await exchange(await codeFor('support', verifier), verifier, {});
    expect(answer.status).toBe(200);
    const tokens = (await answer.json()) as Record<string, unknown>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const verify = createJwtVerifier({ issuer: idp.issuer, audience: idp.audience });
    await expect(verify(tokens.id_token as string)).resolves.toMatchObject({
      sub: 'support',
      token_use: 'id',
      'cognito:groups': ['support'],
    });
    expect(decodePart(tokens.access_token as string, 1)).toMatchObject({
      sub: 'support',
      token_use: 'access',
      client_id: DEFAULT_AUDIENCE,
      scope: 'openid email profile',
    });
    expect(typeof tokens.refresh_token).toBe('string');

    const renewed = await postForm({
      grant_type: 'refresh_token',
      client_id: DEFAULT_AUDIENCE,
      refresh_token: tokens.refresh_token as string,
    });
    expect(renewed.status).toBe(200);
    const fresh = (await renewed.json()) as Record<string, unknown>;
    await expect(verify(fresh.id_token as string)).resolves.toMatchObject({ sub: 'support' });
    expect(fresh).not.toHaveProperty('refresh_token');
  });

  test('given a code, when the verifier is not the one challenged, then invalid_grant, and the code is spent', async () => {
    const verifier = newVerifier();
    const code = await codeFor('alice', verifier);
    await expectOAuthError(await exchange(code, newVerifier()), 'invalid_grant');
    await expectOAuthError(await exchange(code, verifier), 'invalid_grant');
  });

  test('given a code already traded, when it is traded again, then invalid_grant', async () => {
    const verifier = newVerifier();
    const code = await codeFor('alice', verifier);
    expect((await exchange(code, verifier)).status).toBe(200);
    await expectOAuthError(await exchange(code, verifier), 'invalid_grant');
  });

  test('given a code, when the redirect_uri differs from the authorize request, then invalid_grant', async () => {
    const verifier = newVerifier();
    const code = await codeFor('alice', verifier);
    await expectOAuthError(
      await exchange(code, verifier, { redirect_uri: `${DEMO_ORIGIN}/other` }),
      'invalid_grant',
    );
  });

  test('given a code older than 5 minutes, when it is traded, then invalid_grant', async () => {
    const verifier = newVerifier();
    const code = await codeFor('alice', verifier);
    const later = Date.now() + AUTHORIZATION_CODE_TTL_MS + 1000;
    const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      await expectOAuthError(await exchange(code, verifier), 'invalid_grant');
    } finally {
      clock.mockRestore();
    }
  });

  test.each([
    ['an unknown code', { code: 'nope' }, 'invalid_grant'],
    ['another client_id', { client_id: 'someone-else' }, 'invalid_client'],
    ['an unknown grant_type', { grant_type: 'password' }, 'unsupported_grant_type'],
  ])(
    'when the token endpoint is sent %s, then 400 with that OAuth error',
    async (_, override, error) => {
      const verifier = newVerifier();
      const code = await codeFor('alice', verifier);
      await expectOAuthError(await exchange(code, verifier, override), error);
    },
  );

  test('when the token endpoint is sent JSON, then invalid_request; an unknown refresh token is invalid_grant', async () => {
    const json = await fetch(`${idp.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"refresh_token"}',
    });
    await expectOAuthError(json, 'invalid_request');
    await expectOAuthError(
      await postForm({
        grant_type: 'refresh_token',
        client_id: DEFAULT_AUDIENCE,
        refresh_token: 'forged',
      }),
      'invalid_grant',
    );
  });

  test.each([
    ['another client_id', { client_id: 'someone-else' }, /client_id/],
    [
      'a redirect_uri that is no callback URL',
      { redirect_uri: 'http://evil.example/' },
      /callback/,
    ],
    ['no PKCE', { code_challenge_method: 'plain' }, /PKCE/],
    ['another response_type', { response_type: 'token' }, /response_type/],
  ])('when /oauth2/authorize names %s, then 400 and no redirect', async (_, override, message) => {
    const response = await fetch(authorizeUrl(authorizeParams(newVerifier(), override)), {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      message,
    );
  });

  test("given a request from the demo app's origin, when it trades a code, then the answer may be read there (CORS)", async () => {
    const verifier = newVerifier();
    const code = await codeFor('alice', verifier);
    const fromDemo = await fetch(`${idp.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: DEMO_ORIGIN },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: DEFAULT_AUDIENCE,
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }).toString(),
    });
    expect(fromDemo.status).toBe(200);
    expect(fromDemo.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
  });
});
