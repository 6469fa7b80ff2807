/**
 * CORS for the local gateway, answered as API Gateway HTTP APIs answer it when `corsPreflight`
 * is configured: the gateway, not the function, handles it. A preflight (OPTIONS with `Origin`
 * and `Access-Control-Request-Method`) gets 204 at once, whether or not a route matches; every
 * other answer to an allowed origin (handler results, gateway errors, 404s) carries
 * `Access-Control-Allow-Origin` and the exposed headers. An origin not in the list gets no CORS
 * headers, so the browser blocks the page from reading the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  DEFAULT_CORS_ORIGINS,
} from '../../lambdas/handlers/cors';

export interface CorsOptions {
  /** Allowed origins (`*` for any). Default DEFAULT_CORS_ORIGINS (the demo app). */
  readonly allowOrigins?: readonly string[];
}

/** The `Access-Control-Allow-Origin` value for this origin, or undefined when not allowed. */
const allowedOrigin = (origin: string | undefined, allow: readonly string[]) => {
  if (!origin) return undefined;
  if (allow.includes('*')) return '*';
  return allow.includes(origin) ? origin : undefined;
};

/**
 * Sets the CORS headers of this request's answer. Returns true when the request was a
 * preflight and has been answered (the caller must not route it).
 */
export const handleCors = (
  request: IncomingMessage,
  response: ServerResponse,
  options: CorsOptions = {},
): boolean => {
  const origin = allowedOrigin(
    request.headers.origin,
    options.allowOrigins ?? DEFAULT_CORS_ORIGINS,
  );
  const isPreflight =
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined;
  if (origin) {
    response.setHeader('access-control-allow-origin', origin);
    if (origin !== '*') response.setHeader('vary', 'origin');
  }
  if (!isPreflight) {
    if (origin) response.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS.join(','));
    return false;
  }
  if (origin) {
    response.setHeader('access-control-allow-methods', CORS_ALLOW_METHODS.join(','));
    response.setHeader('access-control-allow-headers', CORS_ALLOW_HEADERS.join(','));
    response.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
  }
  // Drain any body so the connection can be reused, then answer as API Gateway does.
  request.resume();
  response.writeHead(204);
  response.end();
  return true;
};
