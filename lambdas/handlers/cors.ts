/**
 * What a browser may send to and read from the HTTP APIs: one list, read by the CDK HTTP APIs
 * (lib/constructs/api.ts) and by the local gateway (local/emulators/cors.ts), so both answer a browser
 * alike. Nothing here is bundled into a function: API Gateway answers CORS itself.
 */
import { ROUTES } from './routes';

/** The methods of the route table (the browser asks with a preflight before a POST with JSON). */
export const CORS_ALLOW_METHODS: readonly string[] = [...new Set(ROUTES.map((r) => r.method))];

/** Request headers the client sends: JSON, correlation id, and SigV4 (when it signs). */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'content-type',
  'x-correlation-id',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
];

/** Response headers a page may read (a browser hides every other non-simple one). */
export const CORS_EXPOSE_HEADERS: readonly string[] = [
  'x-correlation-id',
  'x-command-replayed',
  'x-command-retries',
];

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The origins allowed when none are configured: the demo app served by `npm start` on its
 * default port. Never `*`: a deployed API is called with credentials (SigV4) by known pages.
 */
export const DEFAULT_CORS_ORIGINS: readonly string[] = [
  'http://localhost:3000',
  'http://127.0.0.1:3000',
];

/**
 * Parses a comma-separated list of origins (`scheme://host[:port]`, or `*` alone). Throws on
 * anything else, so a typo fails at synth or start, not in a user's browser.
 */
export const parseCorsOrigins = (value: string, name = 'corsOrigins'): string[] => {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  if (origins.length === 0) throw new Error(`${name} must name at least one origin`);
  for (const origin of origins) {
    if (origin === '*') {
      if (origins.length > 1) throw new Error(`${name}: '*' cannot be combined with origins`);
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new Error(
        `${name}: "${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`,
      );
    }
  }
  return origins;
};
