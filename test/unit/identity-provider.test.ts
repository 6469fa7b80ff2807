/**
 * The development identity provider over real HTTP: its OpenID endpoints, the tokens it signs
 * (verified with the verifier the gateways use, fetching the published JWKS), its one error
 * shape, CORS for the demo app; and how the gateway flattens claims.
 */
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { TokenRejectedError } from '../../lambdas/core/identity/token-verifier';
import { flattenClaims } from '../../local/emulators/gateway';
import { DEFAULT_IDENTITY_PORT, identityPortFor } from '../../local/emulators/runtime';
import { parseCli } from '../../local/tools/cli';
import {
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

test('the discovery document names the issuer, its JWKS, its token endpoint and RS256', async () => {
  const response = await fetch(`${idp.url}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({
    issuer: idp.issuer,
    jwks_uri: `${idp.issuer}/.well-known/jwks.json`,
    token_endpoint: `${idp.issuer}/token`,
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
