/**
 * The benchmark's HTTP client: Node's global fetch (undici, keep-alive connections), optionally
 * signing every request with SigV4 for API Gateway (`execute-api`).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

export interface ApiRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Returns the headers to send (the given ones plus the signature's). */
export type Signer = (request: ApiRequest) => Promise<Record<string, string>>;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** performance.now() just before the request went out (after signing). */
  readonly sentAt: number;
  /** performance.now() once the whole body was read. */
  readonly receivedAt: number;
}

/** A SigV4 signer for API Gateway (service `execute-api`). */
export const createSigV4Signer = (options: {
  region: string;
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /** The signing time (tests); default now. */
  clock?: () => Date;
}): Signer => {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  return async (request) => {
    const query: Record<string, string> = {};
    request.url.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        ...(request.url.port && { port: Number(request.url.port) }),
        path: request.url.pathname,
        query,
        headers: { ...request.headers, host: request.url.host },
        ...(request.body !== undefined && { body: request.body }),
      },
      options.clock ? { signingDate: options.clock() } : {},
    );
    // fetch sets Host from the URL itself (the same value that was signed).
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
};

export class ApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    readonly signer?: Signer,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  url(path: string): URL {
    return new URL(`${this.base}${path}`);
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResponse> {
    const url = this.url(path);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const baseHeaders: Record<string, string> =
      text === undefined ? {} : { 'content-type': 'application/json' };
    const request: ApiRequest = { method, url, headers: baseHeaders, body: text };
    const headers = this.signer ? await this.signer(request) : baseHeaders;
    const sentAt = performance.now();
    const response = await fetch(url, {
      method,
      headers,
      body: text,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const raw = await response.text();
    const receivedAt = performance.now();
    let parsed: unknown = raw;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // not JSON (e.g. a gateway error page): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, sentAt, receivedAt };
  }
}
