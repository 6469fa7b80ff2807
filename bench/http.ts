/**
 * The benchmark's HTTP client: node:http(s) with a keep-alive agent, the transport the AWS SDK
 * uses for the floor's DynamoDB calls (or Node's global fetch, `transport: 'fetch'`), sending
 * the bench's ID token on every request (`authorization: Bearer`), as the gateways require.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { BenchTokens } from './identity';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** performance.now() just before the request went out (after the token was looked up). */
  readonly sentAt: number;
  /** performance.now() once the whole body was read. */
  readonly receivedAt: number;
}

/**
 * How requests go out. `node-http` (default): node:http(s) with a keep-alive agent, as the SDK's
 * NodeHttpHandler sends the floor's DynamoDB calls, so profile and floor pay for the same kind
 * of HTTP client. `fetch`: Node's global fetch (undici), which costs more per request in Node 20
 * (docs/benchmark.md, "Framework overhead").
 */
export type Transport = 'node-http' | 'fetch';

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly receivedAt: number;
}

const headersOf = (message: IncomingMessage): Headers => {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
};

export class ApiClient {
  private readonly base: string;
  private readonly agents = {
    // An idle socket is dropped after 4 s, well before a server's keep-alive timeout (the local
    // gateway's is 30 s, Node's default 5 s), so a request rarely meets a socket being closed.
    http: new HttpAgent({ keepAlive: true, maxSockets: 256, timeout: 4_000 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 256, timeout: 4_000 }),
  };

  /** Where the token on every request comes from (none: requests go without one). */
  readonly tokens?: BenchTokens;
  readonly transport: Transport;
  private readonly timeoutMs: number;

  constructor(
    baseUrl: string,
    options: { tokens?: BenchTokens; timeoutMs?: number; transport?: Transport } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.transport = options.transport ?? 'node-http';
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private viaNodeHttp(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    text: string | undefined,
  ): Promise<RawResponse> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const https = url.protocol === 'https:';
    return new Promise<RawResponse>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers:
            text === undefined
              ? headers
              : { ...headers, 'content-length': Buffer.byteLength(text) },
          agent: https ? this.agents.https : this.agents.http,
          signal,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const receivedAt = performance.now();
            resolve({
              status: response.statusCode ?? 0,
              headers: headersOf(response),
              text: Buffer.concat(chunks).toString('utf8'),
              receivedAt,
            });
          });
        },
      );
      // An abort by the timeout fails as fetch's does: a TimeoutError.
      request.on('error', (error: NodeJS.ErrnoException) => {
        // The keep-alive race: the server closed an idle socket as we reused it. Nothing was
        // answered, so the request never ran: send it again on a fresh socket (Node's advice).
        if (request.reusedSocket && error.code === 'ECONNRESET' && !signal.aborted) {
          resolve(this.viaNodeHttp(method, url, headers, text));
          return;
        }
        reject(signal.aborted ? signal.reason : error);
      });
      request.end(text);
    });
  }

  private async viaFetch(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    text: string | undefined,
  ): Promise<RawResponse> {
    const response = await fetch(url, {
      method,
      headers,
      body: text,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const raw = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text: raw,
      receivedAt: performance.now(),
    };
  }

  url(path: string): URL {
    return new URL(`${this.base}${path}`);
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResponse> {
    const url = this.url(path);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> =
      text === undefined ? {} : { 'content-type': 'application/json' };
    // Before the clock starts: a cached token, or (rarely) a renewal.
    if (this.tokens) headers.authorization = `Bearer ${await this.tokens.current()}`;
    const sentAt = performance.now();
    const response =
      this.transport === 'fetch'
        ? await this.viaFetch(method, url, headers, text)
        : await this.viaNodeHttp(method, url, headers, text);
    const { text: raw, receivedAt } = response;
    let parsed: unknown = raw;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // not JSON (e.g. a gateway error page): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, sentAt, receivedAt };
  }
}
