/**
 * Serves the demo app (web/): bundled by esbuild when the server starts (nothing built is
 * committed), plus `/config.json` naming the API URL of each running stack, so the page can
 * switch between them, and the identity provider it signs in with (the hosted sign-in: issuer,
 * client id, sign-in URL). Static files only; the APIs
 * and the identity provider are other origins, reached with CORS.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_AUDIENCE } from './identity-provider';

/** The API base URL of each stack the page may call (a stack not running is absent). */
export interface WebApis {
  readonly decoupled?: string;
  readonly coupled?: string;
}

export interface WebServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Read on every `/config.json`, so the server may start before the APIs are up. */
  readonly apis: () => WebApis;
  /** Each stack's WebSocket URL (live updates); read like `apis`. */
  readonly websockets?: () => WebApis;
  /** Where the page signs in (the dev identity provider locally); read like `apis`. */
  readonly identity?: () => WebIdentity | undefined;
}

/**
 * The identity provider the page signs in with. For a deployed stack the page gets `issuer`,
 * `clientId` and `signInUrl` (the Cognito hosted UI's domain, docs/operations/deploying.md); the
 * dev identity provider is all three at once (its URL is its issuer and its hosted UI) and also
 * lists its users (`GET <url>/users`), so the page offers them one click each.
 */
export interface WebIdentity {
  /** The dev identity provider's URL: the defaults of the three below. */
  readonly url?: string;
  readonly issuer?: string;
  /** The app client id (the tokens' `aud`); `audience` is the same, as the runtime names it. */
  readonly clientId?: string;
  readonly audience?: string;
  /** Where `/oauth2/authorize` and `/oauth2/token` are. */
  readonly signInUrl?: string;
}

/** What `/config.json` says of the identity provider: every field the page reads, filled. */
export const webIdentityConfig = (identity: WebIdentity | undefined) => {
  if (!identity) return undefined;
  const { url } = identity;
  const issuer = identity.issuer ?? url;
  const clientId = identity.clientId ?? identity.audience ?? (url && DEFAULT_AUDIENCE);
  const signInUrl = identity.signInUrl ?? url;
  if (!issuer || !clientId || !signInUrl) return url ? { url } : undefined;
  return { ...(url && { url }), issuer, clientId, signInUrl };
};

export interface RunningWebServer {
  /** e.g. `http://127.0.0.1:3000` (no trailing slash). */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export const DEFAULT_WEB_PORT = 3000;

const WEB_DIR = resolve(__dirname, '..', '..', 'web');

/** The app as one browser script (React, react-redux, the client and the shared domain code). */
export const bundleWebApp = async (): Promise<string> => {
  const result = await build({
    entryPoints: [join(WEB_DIR, 'main.tsx')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    minify: true,
    sourcemap: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no bundle for web/main.tsx');
  return output.text;
};

interface Asset {
  readonly type: string;
  readonly body: string | (() => string);
}

export const startWebServer = async (options: WebServerOptions): Promise<RunningWebServer> => {
  const host = options.host ?? '127.0.0.1';
  const script = await bundleWebApp();
  const file = (name: string) => readFileSync(join(WEB_DIR, name), 'utf8');
  const html = { type: 'text/html; charset=utf-8', body: file('index.html') };
  const assets: Record<string, Asset> = {
    '/': html,
    '/index.html': html,
    '/app.js': { type: 'text/javascript; charset=utf-8', body: script },
    '/styles.css': { type: 'text/css; charset=utf-8', body: file('styles.css') },
    // The service worker keeps the app shell loadable offline (a reload without network).
    '/sw.js': { type: 'text/javascript; charset=utf-8', body: file('sw.js') },
    '/config.json': {
      type: 'application/json',
      body: () => {
        const identity = webIdentityConfig(options.identity?.());
        return JSON.stringify({
          apis: options.apis(),
          websockets: options.websockets?.() ?? {},
          ...(identity && { identity }),
        });
      },
    },
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const asset = assets[path];
    if (!asset || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Not Found');
      return;
    }
    const body = typeof asset.body === 'function' ? asset.body() : asset.body;
    // Always revalidate: the service worker is network-first, so a fresh start is seen at once.
    response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
    response.end(request.method === 'HEAD' ? undefined : body);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_WEB_PORT, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
};

/** The origins a page served at `url` has: the URL's own, and `localhost` for a loopback IP. */
export const originsOf = (url: string): string[] => {
  const parsed = new URL(url);
  const origins = [parsed.origin];
  if (parsed.hostname === '127.0.0.1') origins.push(`${parsed.protocol}//localhost:${parsed.port}`);
  if (parsed.hostname === 'localhost') origins.push(`${parsed.protocol}//127.0.0.1:${parsed.port}`);
  return origins;
};

/**
 * The demo app alone, against a deployed stack: `node --import tsx local/emulators/web-server.ts
 * config.json [port]` serves web/ with that config.json (docs/operations/deploying.md). Open it
 * at `http://localhost:<port>/`: Cognito sends the user back to `http://localhost` pages only.
 */
const serveDemoWithConfig = async (configPath: string, port: number) => {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    apis?: WebApis;
    websockets?: WebApis;
    identity?: WebIdentity;
  };
  const web = await startWebServer({
    port,
    apis: () => config.apis ?? {},
    websockets: () => config.websockets ?? {},
    identity: () => config.identity,
  });
  console.log(`The demo app: http://localhost:${new URL(web.url).port}/ (Ctrl-C stops it)`);
  const stop = () => void web.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

if (require.main === module) {
  const [configPath, port] = process.argv.slice(2);
  if (!configPath) {
    console.error('usage: node --import tsx local/emulators/web-server.ts config.json [port]');
    process.exit(2);
  }
  serveDemoWithConfig(configPath, port === undefined ? DEFAULT_WEB_PORT : Number(port)).catch(
    (error: unknown) => {
      console.error('error:', error);
      process.exit(1);
    },
  );
}
