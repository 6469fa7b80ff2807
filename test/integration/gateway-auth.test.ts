/**
 * The local gateways verify tokens as API Gateway does, over real HTTP and real WebSockets, with
 * the development identity provider's tokens and stub functions behind them:
 * - HTTP: API Gateway's JWT authorizer (401 `{"message":"Unauthorized"}` for any bad token, the
 *   function never called; valid claims flattened into `requestContext.authorizer.jwt.claims`);
 * - WebSocket: the `$connect` REQUEST authorizer the cloud runs (lambdas/handlers/connect-authorizer.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from 'aws-lambda';
import { WebSocket } from 'ws';
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { principalFromClaims } from '../../lambdas/core/identity/principal';
import type { TokenVerifier } from '../../lambdas/core/identity/token-verifier';
import { connectAuthorizerFromEnv } from '../../lambdas/handlers/identity-wiring';
import type { WebSocketEvent } from '../../lambdas/handlers/websocket';
import { type RunningGateway, startGateway } from '../../local/emulators/gateway';
import {
  type RunningIdentityProvider,
  rsaKeyPair,
  signJwt,
  startIdentityProvider,
} from '../../local/emulators/identity-provider';
import {
  type ConnectAuthorizer,
  type RunningWebSocketGateway,
  startWebSocketGateway,
} from '../../local/emulators/websocket-gateway';

const DEMO_ORIGIN = 'http://localhost:3000';

let idp: RunningIdentityProvider;
let verify: TokenVerifier;
let verifications = 0;
beforeAll(async () => {
  idp = await startIdentityProvider({ port: 0 });
  const verifier = createJwtVerifier({
    issuer: idp.issuer,
    audience: idp.audience,
    jwks: idp.jwks,
  });
  verify = (token) => {
    verifications++;
    return verifier(token);
  };
});
afterAll(() => idp.close());

const kid = () => (idp.jwks.keys[0] as { kid: string }).kid;
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const anotherKey = () => rsaKeyPair().privateKey;

describe('HTTP: the JWT authorizer on every route', () => {
  let gateway: RunningGateway;
  const calls: APIGatewayProxyEventV2[] = [];
  const lines: string[] = [];
  beforeAll(async () => {
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      name: 'auth',
      log: (line) => lines.push(line),
      cors: { allowOrigins: [DEMO_ORIGIN] },
      verifyToken: verify,
      targetFor: () => ({
        functionName: 'stub',
        handler: async (event) => {
          calls.push(event);
          return { statusCode: 200, body: '{}' };
        },
      }),
    });
  });
  afterAll(() => gateway.close());

  const get = (authorization?: string) =>
    fetch(`${gateway.url}/orders/o-1`, {
      headers: { ...(authorization !== undefined && { authorization }) },
    });

  /** The log line written after the first `count` lines (the gateway writes it on finish). */
  const lineAfter = async (count: number) => {
    for (let i = 0; i < 200 && lines.length <= count; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return lines[count] ?? '';
  };

  const refused: [string, () => string | undefined, string, RegExp][] = [
    ['no Authorization header', () => undefined, 'Bearer', /no Authorization header/],
    ['an empty Authorization header', () => '', 'Bearer', /no Authorization header/],
    [
      'a token that is not a JWT',
      () => 'Bearer not-a-jwt',
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .+/,
    ],
    [
      'another scheme (Basic)',
      () => 'Basic YWxpY2U6c2VjcmV0',
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .+/,
    ],
    [
      'an expired token',
      () => `Bearer ${idp.tokenFor('alice', { ttlSeconds: -60 })}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .*expired/i,
    ],
    [
      'a token not valid yet (nbf in the future)',
      () => `Bearer ${idp.tokenFor('alice', { notBeforeSeconds: 300 })}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .*before/i,
    ],
    [
      'a token for another audience',
      () => `Bearer ${idp.tokenFor('alice', { audience: 'another-app' })}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .*audience/i,
    ],
    [
      'a token of another issuer',
      () => `Bearer ${idp.tokenFor('alice', { issuer: 'http://elsewhere.example' })}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .*issuer/i,
    ],
    [
      'a token signed by another key under the same kid',
      () =>
        `Bearer ${signJwt({ alg: 'RS256', typ: 'JWT', kid: kid() }, claimsOf(idp.tokenFor('admin')), anotherKey())}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .*signature/i,
    ],
    [
      'a token signed under an unknown kid',
      () =>
        `Bearer ${signJwt({ alg: 'RS256', typ: 'JWT', kid: 'not-a-known-kid' }, claimsOf(idp.tokenFor('admin')), anotherKey())}`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .+/,
    ],
    [
      'an unsigned token (alg none)',
      () =>
        `Bearer ${b64({ alg: 'none', typ: 'JWT', kid: kid() })}.${b64(claimsOf(idp.tokenFor('admin')))}.`,
      'Bearer scope="" error="invalid_token"',
      /unauthorized: .+/,
    ],
  ];

  test.each(refused)(
    'given %s, the gateway answers 401 Unauthorized and never calls the function',
    async (_, authorization, challenge, reason) => {
      const before = calls.length;
      const logged = lines.length;
      const response = await get(authorization());
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('www-authenticate')).toBe(challenge);
      expect(await response.text()).toBe('{"message":"Unauthorized"}');
      expect(calls.length).toBe(before);
      // The reason is in the log line, never in the answer.
      expect(await lineAfter(logged)).toMatch(reason);
    },
  );

  test.each([
    ['Bearer <token>', (token: string) => `Bearer ${token}`],
    ['the bare token', (token: string) => token],
  ])(
    'given a valid token as %s, the function gets its claims flattened as API Gateway passes them',
    async (_, header) => {
      const token = idp.tokenFor('support');
      const logged = lines.length;
      const response = await get(header(token));
      expect(response.status).toBe(200);
      const event = calls.at(-1) as APIGatewayProxyEventV2WithJWTAuthorizer;
      const { claims, scopes } = event.requestContext.authorizer.jwt;
      const issued = claimsOf(token);
      expect(scopes).toBeNull();
      expect(claims).toMatchObject({
        sub: 'support',
        'cognito:groups': '[support]',
        iss: idp.issuer,
        aud: idp.audience,
        token_use: 'id',
        exp: String(issued.exp),
        iat: String(issued.iat),
      });
      for (const value of Object.values(claims)) expect(typeof value).toBe('string');
      // What the handlers read back: the principal.
      expect(principalFromClaims(claims)).toEqual({ subject: 'support', roles: ['support'] });
      expect(await lineAfter(logged)).toMatch(/^\[auth\] GET \/orders\/o-1 200 .*ms -$/);
    },
  );

  test('a customer token reaches the function without a groups claim', async () => {
    expect((await get(`Bearer ${idp.tokenFor('alice')}`)).status).toBe(200);
    const event = calls.at(-1) as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(event.requestContext.authorizer.jwt.claims).not.toHaveProperty('cognito:groups');
    expect(principalFromClaims(event.requestContext.authorizer.jwt.claims)).toEqual({
      subject: 'alice',
      roles: [],
    });
  });

  test('a CORS preflight needs no token and reaches no function, as in AWS', async () => {
    const before = calls.length;
    const response = await fetch(`${gateway.url}/commands`, {
      method: 'OPTIONS',
      headers: {
        origin: DEMO_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(calls.length).toBe(before);
  });

  test('a refusal carries the CORS headers, so the demo app can read the 401', async () => {
    const response = await fetch(`${gateway.url}/orders/o-1`, { headers: { origin: DEMO_ORIGIN } });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
  });

  test('an unknown route is a 404 before any token is asked for (no route, no authorizer)', async () => {
    const response = await fetch(`${gateway.url}/orders/o-1/nothing/here`);
    expect(response.status).toBe(404);
  });
});

describe('WebSocket: the $connect authorizer', () => {
  let gateway: RunningWebSocketGateway;
  const events: WebSocketEvent[] = [];
  const cloudAuthorizer = () =>
    connectAuthorizerFromEnv({}, { verify, logger: new Logger({ logLevel: 'SILENT' }) });
  let authorize: ConnectAuthorizer;
  beforeAll(async () => {
    gateway = await startWebSocketGateway({
      routes: ['whoami'],
      handler: async (event) => {
        events.push(event);
        return event.requestContext.routeKey === 'whoami'
          ? {
              statusCode: 200,
              body: JSON.stringify((event.requestContext as { authorizer?: unknown }).authorizer),
            }
          : { statusCode: 200 };
      },
      authorizer: {
        handler: (event, context) => authorize(event, context),
        queryParameter: 'token',
      },
    });
  });
  beforeEach(() => {
    authorize = cloudAuthorizer();
  });
  afterAll(() => gateway.close());

  /** Opens a socket: the open socket, or the status that refused the upgrade. */
  const connect = (query: string) =>
    new Promise<{ socket?: WebSocket; status?: number }>((resolveConnect, reject) => {
      const socket = new WebSocket(`${gateway.url}/${query}`);
      socket.once('open', () => resolveConnect({ socket }));
      socket.once('unexpected-response', (_, response) => {
        resolveConnect({ status: response.statusCode });
        socket.terminate();
      });
      socket.once('error', reject);
    });

  const reply = (socket: WebSocket, message: object) =>
    new Promise<Record<string, unknown>>((resolveReply) => {
      socket.once('message', (data) =>
        resolveReply(JSON.parse(String(data)) as Record<string, unknown>),
      );
      socket.send(JSON.stringify(message));
    });

  test('without ?token= the upgrade is refused with 401 and the authorizer is not called', async () => {
    const before = verifications;
    let called = false;
    authorize = async () => {
      called = true;
      throw new Error('Unauthorized');
    };
    expect(await connect('')).toEqual({ status: 401 });
    expect(await connect('?token=')).toEqual({ status: 401 });
    expect(called).toBe(false);
    expect(verifications).toBe(before);
  });

  test.each([
    ['a token that is not a JWT', () => 'nonsense'],
    ['an expired token', () => idp.tokenFor('alice', { ttlSeconds: -1 })],
    ['a token for another audience', () => idp.tokenFor('alice', { audience: 'another-app' })],
  ])('with %s the upgrade is refused with 401 and no $connect runs', async (_, token) => {
    const before = events.length;
    expect(await connect(`?token=${encodeURIComponent(token())}`)).toEqual({ status: 401 });
    expect(events.length).toBe(before);
  });

  test('with a valid token the authorizer context reaches $connect, every message and $disconnect', async () => {
    const token = idp.tokenFor('support');
    const { socket } = await connect(`?token=${token}`);
    expect(socket).toBeDefined();
    const expected = {
      principalId: 'support',
      sub: 'support',
      roles: 'support',
      exp: claimsOf(token).exp,
    };
    expect(await reply(socket!, { action: 'whoami' })).toEqual(expected);
    // The last event is this connection's `whoami` message.
    const connectionId = events.at(-1)!.requestContext.connectionId;
    const ofConnection = (routeKey: string) =>
      events.find(
        (e) =>
          e.requestContext.connectionId === connectionId && e.requestContext.routeKey === routeKey,
      );
    expect(
      (ofConnection('$connect')!.requestContext as { authorizer?: unknown }).authorizer,
    ).toEqual(expected);
    socket!.close();
    for (let i = 0; i < 200 && !ofConnection('$disconnect'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(
      (ofConnection('$disconnect')!.requestContext as { authorizer?: unknown }).authorizer,
    ).toEqual(expected);
  });

  test('the authorizer gets a REQUEST event for $connect with the query string and headers', async () => {
    let seen: Parameters<ConnectAuthorizer>[0] | undefined;
    const cloud = cloudAuthorizer();
    authorize = (event) => {
      seen = event;
      return cloud(event);
    };
    const { socket } = await connect(`?token=${idp.tokenFor('bob')}&lang=fr`);
    socket!.close();
    expect(seen).toMatchObject({
      type: 'REQUEST',
      methodArn: expect.stringMatching(/^arn:aws:execute-api:[^:]+:\d+:[^/]+\/[^/]+\/\$connect$/),
      queryStringParameters: { lang: 'fr', token: expect.any(String) },
      headers: expect.objectContaining({ host: expect.any(String) }),
      requestContext: expect.objectContaining({ routeKey: '$connect', eventType: 'CONNECT' }),
    });
    expect(seen!.requestContext).toHaveProperty('connectionId');
  });

  test('a Deny policy refuses the upgrade with 403', async () => {
    authorize = async (event): Promise<APIGatewayAuthorizerResult> => ({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
      },
    });
    expect(await connect(`?token=${idp.tokenFor('alice')}`)).toEqual({ status: 403 });
  });

  test('an authorizer that fails otherwise refuses the upgrade with 500', async () => {
    authorize = async () => {
      throw new Error('the JWKS could not be fetched');
    };
    expect(await connect(`?token=${idp.tokenFor('alice')}`)).toEqual({ status: 500 });
  });
});
