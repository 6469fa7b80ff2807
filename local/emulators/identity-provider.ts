/**
 * A development identity provider: the local stand-in for the Cognito user pool. It signs ID
 * tokens shaped like Cognito's (RS256, `cognito:groups` for roles, `token_use: id`) for a fixed
 * set of dev users, and publishes what a verifier needs, as an OpenID Connect issuer does:
 *
 * - `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`;
 * - `GET /users`: the dev users and their roles (the demo app's sign-in list);
 * - `POST /token` with `{ "user": "alice" }`: `{ id_token, token_type, expires_in }` (tools, tests);
 * - the endpoints of Cognito's hosted UI the demo app signs in with (authorization code + PKCE,
 *   a public client): `GET /oauth2/authorize` answers a page listing the dev users (or, with a
 *   `login_hint` naming one, picks them at once, as a hosted UI with a live session does);
 *   picking one redirects to `redirect_uri?code=...&state=...`; `POST /oauth2/token` trades the
 *   code (once, within 5 minutes, with the right verifier and redirect_uri) or a refresh token
 *   for tokens, with Cognito's errors (`400 {"error":"invalid_grant"}`).
 *
 * No passwords: anyone who can reach the port may be anyone. The key pair, the codes and the
 * refresh tokens live only in this process, so a restart invalidates every token issued before it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
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
import { DEFAULT_CORS_ORIGINS } from '../../lambdas/handlers/cors';
import { type CorsOptions, handleCors } from './cors';

/** The app client id the tokens are issued for (`aud`), as a Cognito app client's id. */
export const DEFAULT_AUDIENCE = 'local-demo-app';

/** Cognito's default ID token lifetime. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** How long an authorization code may be traded for tokens (Cognito: 5 minutes). */
export const AUTHORIZATION_CODE_TTL_MS = 5 * 60_000;

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
  /**
   * Pages allowed to call `/token`, `/users` and `/oauth2/token` (local/emulators/cors.ts), and
   * the hosted sign-in's callback URLs: `<origin>/` of each, as the Cognito app client is
   * configured (lib/constructs/identity.ts). Default: the demo app.
   */
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

/** An OAuth 2.0 error as Cognito's token endpoint answers it: `400 {"error":"invalid_grant"}`. */
class OAuthError extends Error {
  constructor(
    readonly error:
      'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type',
    message: string,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

/** The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)), no padding. */
const s256 = (verifier: string) =>
  createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A sign-in the hosted page was asked for, checked before any user is picked. */
interface AuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly codeChallenge: string;
  readonly scope: string;
}

interface IssuedCode {
  readonly user: DevUserName;
  readonly request: AuthorizeRequest;
  readonly expiresAt: number;
}

/**
 * A fresh RSA key pair, each key made from its PEM text rather than taken from the generator.
 * Node 20 locks a generated key while exporting it as a JWK; a garbage collection during that
 * export that finalises the spent generator job locks the same key again, and the process hangs
 * for good (seen once in CI; gdb: ExportJWKRsaKey -> GC -> ~KeyGenJob -> uv_mutex_lock on the
 * mutex the export holds). Keys read from PEM share nothing with the job.
 */
export const rsaKeyPair = (
  modulusLength = 2048,
): { privateKey: KeyObject; publicKey: KeyObject } => {
  const pem = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: createPrivateKey(pem.privateKey),
    publicKey: createPublicKey(pem.publicKey),
  };
};

export const startIdentityProvider = async (
  options: IdentityProviderOptions = {},
): Promise<RunningIdentityProvider> => {
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const { privateKey, publicKey } = rsaKeyPair();
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

  /** The hosted UI's callback URLs: `<origin>/` of each allowed page (any, with `*`). */
  const allowedOrigins = options.cors?.allowOrigins ?? DEFAULT_CORS_ORIGINS;
  const isCallbackUrl = (uri: string) => {
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    return allowedOrigins.includes('*') || allowedOrigins.some((origin) => uri === `${origin}/`);
  };

  const codes = new Map<string, IssuedCode>();
  const refreshTokens = new Map<string, { user: DevUserName; clientId: string }>();

  /** An access token as Cognito's: `token_use: access`, `client_id` (no `aud`), the scopes. */
  const accessTokenFor = (user: DevUserName, clientId: string, scope: string) => {
    const now = Math.floor(Date.now() / 1000);
    const roles = DEV_USERS[user].roles;
    return signJwt(
      { alg: 'RS256', typ: 'JWT', kid },
      {
        sub: user,
        ...(roles.length > 0 && { [ROLES_CLAIM]: [...roles] }),
        iss: issuer,
        client_id: clientId,
        token_use: 'access',
        scope,
        username: user,
        auth_time: now,
        iat: now,
        exp: now + DEFAULT_TOKEN_TTL_SECONDS,
      },
      privateKey,
    );
  };

  /** The query of `/oauth2/authorize` (or the form re-posting it), checked as Cognito does. */
  const authorizeRequestOf = (params: URLSearchParams): AuthorizeRequest => {
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    if (clientId !== audience) {
      throw new AppError('VALIDATION_FAILED', `Unknown client_id "${clientId}"`);
    }
    if (!isCallbackUrl(redirectUri)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `redirect_uri "${redirectUri}" is not a callback URL: ${allowedOrigins.map((o) => `${o}/`).join(', ')}`,
      );
    }
    if (params.get('response_type') !== 'code') {
      throw new AppError('VALIDATION_FAILED', 'response_type must be code');
    }
    const codeChallenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !PKCE_VALUE.test(codeChallenge)) {
      throw new AppError(
        'VALIDATION_FAILED',
        'A public client needs PKCE: code_challenge (S256 of the verifier) and code_challenge_method=S256',
      );
    }
    const state = params.get('state');
    return {
      clientId,
      redirectUri,
      codeChallenge,
      scope: params.get('scope') ?? 'openid',
      ...(state !== null && { state }),
    };
  };

  /** Issues a one-time code for `user` and sends the browser back to the app with it. */
  const redirectWithCode = (
    response: ServerResponse,
    request: AuthorizeRequest,
    user: DevUserName,
  ) => {
    // Codes never traded are dropped once expired: the map stays small.
    for (const [issued, { expiresAt }] of codes) if (expiresAt < Date.now()) codes.delete(issued);
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { user, request, expiresAt: Date.now() + AUTHORIZATION_CODE_TTL_MS });
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', code);
    if (request.state !== undefined) target.searchParams.set('state', request.state);
    response.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
    response.end();
  };

  /** The "hosted UI": one button per dev user, posting the checked request back with the pick. */
  const hostedPage = (params: URLSearchParams) => {
    const hidden = [...params]
      .filter(([name]) => name !== 'user' && name !== 'login_hint')
      .map(
        ([name, value]) =>
          `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
      )
      .join('');
    const buttons = DEV_USER_NAMES.map((user) => {
      const { name, roles } = DEV_USERS[user];
      const role = roles.length === 0 ? 'customer' : roles.join(', ');
      return `<li><button type="submit" name="user" value="${user}" data-testid="hosted-sign-in-${user}"><b class="user-name">${escapeHtml(name)}</b> <span>${escapeHtml(role)}</span></button></li>`;
    }).join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · development identity provider</title><style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d2330}ul{list-style:none;padding:0}button{width:100%;margin:.25rem 0;padding:.7rem;font:inherit;text-align:left;border:1px solid #c8cfdb;border-radius:.5rem;background:#fff;cursor:pointer}button span{color:#667}p{color:#556}</style></head><body><main data-testid="hosted-sign-in"><h1>Sign in</h1><p>Development identity provider: the local stand-in for the Cognito hosted UI. No password: pick who you are.</p><form method="post" action="/login">${hidden}<ul>${buttons}</ul></form></main></body></html>`;
  };

  const sendHtml = (response: ServerResponse, status: number, html: string) => {
    response.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    response.end(html);
  };

  const authorize = (requestUrl: URL, response: ServerResponse) => {
    const request = authorizeRequestOf(requestUrl.searchParams);
    const hint = requestUrl.searchParams.get('login_hint');
    // A dev user named in login_hint is signed in at once, as by a live hosted-UI session.
    if (hint !== null && isDevUser(hint)) return redirectWithCode(response, request, hint);
    sendHtml(response, 200, hostedPage(requestUrl.searchParams));
  };

  const readForm = async (request: IncomingMessage) => {
    const body = await readBody(request);
    if (body === undefined) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The body is over ${MAX_BODY_BYTES} bytes`);
    }
    return new URLSearchParams(body.toString('utf8'));
  };

  /** The hosted page's form: the same checks as `/oauth2/authorize`, then the chosen user. */
  const login = async (request: IncomingMessage, response: ServerResponse) => {
    const form = await readForm(request);
    const authorizeRequest = authorizeRequestOf(form);
    const user = form.get('user') ?? '';
    if (!isDevUser(user))
      throw new AppError('VALIDATION_FAILED', new UnknownUserError(user).message);
    redirectWithCode(response, authorizeRequest, user);
  };

  const tokensFor = (user: DevUserName, clientId: string, scope: string) => ({
    id_token: tokenFor(user),
    access_token: accessTokenFor(user, clientId, scope),
    expires_in: DEFAULT_TOKEN_TTL_SECONDS,
    token_type: 'Bearer',
  });

  /** `POST /oauth2/token`: the authorization-code and refresh-token grants of a public client. */
  const oauthToken = async (request: IncomingMessage) => {
    if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      request.resume();
      throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
    }
    const form = await readForm(request);
    const clientId = form.get('client_id') ?? '';
    if (clientId !== audience) throw new OAuthError('invalid_client', 'Unknown client_id');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const issued = codes.get(code);
      // A code is good for one attempt, right or wrong, as in Cognito.
      codes.delete(code);
      if (!issued || issued.expiresAt < Date.now()) {
        throw new OAuthError('invalid_grant', 'Unknown, used or expired code');
      }
      if (issued.request.clientId !== clientId) {
        throw new OAuthError('invalid_grant', 'The code was issued to another client');
      }
      if (form.get('redirect_uri') !== issued.request.redirectUri) {
        throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorize request');
      }
      const verifier = form.get('code_verifier') ?? '';
      if (!PKCE_VALUE.test(verifier) || s256(verifier) !== issued.request.codeChallenge) {
        throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
      }
      const refreshToken = randomBytes(32).toString('base64url');
      refreshTokens.set(refreshToken, { user: issued.user, clientId });
      return {
        ...tokensFor(issued.user, clientId, issued.request.scope),
        refresh_token: refreshToken,
      };
    }
    if (grantType === 'refresh_token') {
      const granted = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!granted || granted.clientId !== clientId) {
        throw new OAuthError('invalid_grant', 'Unknown refresh token');
      }
      // As Cognito without rotation: new ID and access tokens, the refresh token kept.
      return tokensFor(granted.user, clientId, 'openid');
    }
    throw new OAuthError('unsupported_grant_type', `Unsupported grant_type "${grantType}"`);
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
    const requestUrl = new URL(request.url ?? '/', 'http://localhost');
    const path = requestUrl.pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/.well-known/openid-configuration') {
      return sendJson(response, 200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        authorization_endpoint: `${issuer}/oauth2/authorize`,
        token_endpoint: `${issuer}/oauth2/token`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'name', ROLES_CLAIM],
      });
    }
    if (method === 'GET' && path === '/.well-known/jwks.json') return sendJson(response, 200, jwks);
    if (method === 'GET' && path === '/users') return sendJson(response, 200, users());
    if (method === 'POST' && path === '/token') return issueToken(request, response);
    if (method === 'GET' && path === '/oauth2/authorize') return authorize(requestUrl, response);
    if (method === 'POST' && path === '/login') return login(request, response);
    if (method === 'POST' && path === '/oauth2/token') {
      try {
        return sendJson(response, 200, await oauthToken(request));
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        // Cognito's shape: the code only (the message is for whoever reads this file).
        return sendJson(response, 400, { error: error.error });
      }
    }
    request.resume();
    throw new AppError('ROUTE_NOT_FOUND', `No route ${method} ${path}`, {
      routes: [
        'GET /.well-known/openid-configuration',
        'GET /.well-known/jwks.json',
        'GET /users',
        'POST /token',
        'GET /oauth2/authorize',
        'POST /oauth2/token',
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
