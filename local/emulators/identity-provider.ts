/**
 * A development identity provider: the local stand-in for the Cognito user pool. It signs ID
 * tokens shaped like Cognito's (RS256, `cognito:groups` for roles, `token_use: id`) for a fixed
 * set of dev users, and publishes what a verifier needs, as an OpenID Connect issuer does:
 *
 * - `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`;
 * - `GET /users`: the dev users and their roles (the demo app's sign-in list);
 * - `POST /token` with `{ "user": "alice" }`: `{ id_token, token_type, expires_in }`.
 *
 * No passwords: anyone who can reach the port may be anyone. The key pair is made at start and
 * lives only in this process, so a restart invalidates every token issued before it.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Jwks } from 'aws-jwt-verify/jwk';
import * as z from 'zod';
import { ROLES_CLAIM, type Role } from '../../lambdas/core/identity/principal';
import { AppError, errorMessageOf, ValidationError } from '../../lambdas/core/shared/errors';
import { parseWith } from '../../lambdas/handlers/http';
import { type CorsOptions, handleCors } from './cors';

/** The app client id the tokens are issued for (`aud`), as a Cognito app client's id. */
export const DEFAULT_AUDIENCE = 'local-demo-app';

/** Cognito's default ID token lifetime. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export interface DevUser {
  /** The display name (`name` claim). */
  readonly name: string;
  readonly roles: readonly Role[];
}

/** Who can sign in locally: two customers and one of each staff role. The key is the `sub`. */
export const DEV_USERS = {
  alice: { name: 'Alice', roles: [] },
  bob: { name: 'Bob', roles: [] },
  support: { name: 'Support', roles: ['support'] },
  admin: { name: 'Admin', roles: ['admin'] },
} as const satisfies Record<string, DevUser>;

export type DevUserName = keyof typeof DEV_USERS;
export const DEV_USER_NAMES = Object.keys(DEV_USERS) as [DevUserName, ...DevUserName[]];

const isDevUser = (user: string): user is DevUserName => Object.hasOwn(DEV_USERS, user);

export class UnknownUserError extends Error {
  constructor(readonly user: string) {
    super(`Unknown user "${user}": the dev users are ${DEV_USER_NAMES.join(', ')}`);
    this.name = 'UnknownUserError';
  }
}

/** Overrides for tests: tokens a real issuer would never hand out. */
export interface TokenOptions {
  /** Instead of the user's own roles. */
  readonly roles?: readonly string[];
  /** Lifetime from now; negative: expired already. Default 1 hour. */
  readonly ttlSeconds?: number;
  /** Sets `nbf` this many seconds from now (absent by default, as in Cognito's tokens). */
  readonly notBeforeSeconds?: number;
  readonly audience?: string;
  readonly issuer?: string;
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** A compact JWS, RS256 (RSASSA-PKCS1-v1_5 with SHA-256), as Cognito signs. */
export const signJwt = (
  header: Readonly<Record<string, unknown>>,
  claims: Readonly<Record<string, unknown>>,
  privateKey: KeyObject | string,
): string => {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
};

export interface IdentityProviderOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Default DEFAULT_AUDIENCE. */
  readonly audience?: string;
  /** Pages allowed to call `/token` and `/users` (local/emulators/cors.ts). Default: the demo app. */
  readonly cors?: CorsOptions;
}

export interface RunningIdentityProvider {
  /** `http://host:port`: also the issuer (`iss`), as a Cognito pool's URL is. */
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  /** The public key set (the same document `/.well-known/jwks.json` serves). */
  readonly jwks: Jwks;
  /** A signed ID token for a dev user; throws UnknownUserError for anyone else. */
  tokenFor(user: string, options?: TokenOptions): string;
  readonly users: typeof DEV_USERS;
  close(): Promise<void>;
}

const tokenRequestSchema = z.object({ user: z.string().min(1) });

/** Small bodies only: `{ "user": "..." }`. */
const MAX_BODY_BYTES = 16 * 1024;

const sendJson = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
};

const sendError = (response: ServerResponse, error: AppError) =>
  sendJson(response, error.status, { error: errorMessageOf(error) });

const readBody = (request: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolveBody(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });

export const startIdentityProvider = async (
  options: IdentityProviderOptions = {},
): Promise<RunningIdentityProvider> => {
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] } as Jwks;
  // Known once the server listens (a free port is only known then).
  let issuer = '';

  const tokenFor = (user: string, tokenOptions: TokenOptions = {}): string => {
    if (!isDevUser(user)) throw new UnknownUserError(user);
    const now = Math.floor(Date.now() / 1000);
    const roles = tokenOptions.roles ?? DEV_USERS[user].roles;
    const claims = {
      sub: user,
      // Cognito leaves the groups claim out for a user in no group.
      ...(roles.length > 0 && { [ROLES_CLAIM]: [...roles] }),
      iss: tokenOptions.issuer ?? issuer,
      aud: tokenOptions.audience ?? audience,
      token_use: 'id',
      'cognito:username': user,
      name: DEV_USERS[user].name,
      auth_time: now,
      iat: now,
      ...(tokenOptions.notBeforeSeconds !== undefined && {
        nbf: now + tokenOptions.notBeforeSeconds,
      }),
      exp: now + (tokenOptions.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
    };
    return signJwt({ alg: 'RS256', typ: 'JWT', kid }, claims, privateKey);
  };

  const users = () => ({
    users: DEV_USER_NAMES.map((user) => ({
      user,
      name: DEV_USERS[user].name,
      roles: DEV_USERS[user].roles,
    })),
  });

  const issueToken = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    if (body === undefined) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The body is over ${MAX_BODY_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AppError('INVALID_JSON', 'The body is not valid JSON: send {"user":"alice"}');
    }
    const { user } = parseWith(tokenRequestSchema, parsed, 'body');
    if (!isDevUser(user)) {
      const { message } = new UnknownUserError(user);
      throw new ValidationError(message, [{ path: 'body.user', message }]);
    }
    sendJson(response, 200, {
      id_token: tokenFor(user),
      token_type: 'Bearer',
      expires_in: DEFAULT_TOKEN_TTL_SECONDS,
    });
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/.well-known/openid-configuration') {
      return sendJson(response, 200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'name', ROLES_CLAIM],
      });
    }
    if (method === 'GET' && path === '/.well-known/jwks.json') return sendJson(response, 200, jwks);
    if (method === 'GET' && path === '/users') return sendJson(response, 200, users());
    if (method === 'POST' && path === '/token') return issueToken(request, response);
    request.resume();
    throw new AppError('ROUTE_NOT_FOUND', `No route ${method} ${path}`, {
      routes: [
        'GET /.well-known/openid-configuration',
        'GET /.well-known/jwks.json',
        'GET /users',
        'POST /token',
      ],
    });
  };

  const server = createServer((request, response) => {
    if (handleCors(request, response, options.cors)) return;
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof AppError) return sendError(response, error);
      console.error('identity provider error:', error);
      sendError(response, new AppError('INTERNAL', 'Internal server error'));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: issuer,
    issuer,
    audience,
    jwks,
    tokenFor,
    users: DEV_USERS,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
};
