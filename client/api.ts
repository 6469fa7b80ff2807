/**
 * A typed API client over `fetch`: commands of any aggregate of the deployment, the view, the
 * events and the history of any collection's id, its lists. Error answers
 * become `ApiError`s typed from the server's own catalogue; no answer at all is a `NetworkError`.
 * Browser and Node 20+: no AWS SDK, no Node built-in.
 */
import { ERROR_CATALOGUE, type ErrorCode } from '../lambdas/core/shared/errors';
import { decodeStoredEvent } from '../lambdas/core/events/event-codec';
import type { StoredEvent } from '../lambdas/core/events/events';
import { aggregateOfCommand, type DeploymentCommand, type DeploymentView } from './aggregates';
import { type Principal, principalOfToken, type TokenProvider } from './identity';

/** A command as the client sends it: the envelope of `POST /commands`. */
export type ClientCommand = DeploymentCommand & {
  readonly aggregateId: string;
  /** The command applies only at this version; anything else is a 409 VERSION_CONFLICT. */
  readonly expectedVersion?: number;
};

export interface CommandRequest {
  readonly type: string;
  readonly aggregateId: string;
  readonly payload: unknown;
  readonly expectedVersion?: number;
  readonly commandId: string;
  /**
   * The subject who queued the command (its outbox entry's `user`): it is sent only with a
   * token of that subject, never with another user's (SignInRequiredError `other-user` instead).
   */
  readonly user?: string;
}

/** The answer of `POST /commands`: 202 (decoupled: events) or 200 (coupled: events and the row). */
export interface CommandAnswer {
  readonly status: number;
  readonly aggregateId: string;
  readonly version: number;
  readonly events: readonly StoredEvent[];
  /** Coupled profile: the aggregate's fresh view (`null` once it is deleted). */
  readonly view?: DeploymentView | null;
  /** True when the server answered with the result of an earlier run of this commandId. */
  readonly replayed: boolean;
  readonly retries: number;
  readonly correlationId?: string;
}

/** A page of a collection's list (`listViews`). */
export interface ViewPage<View = DeploymentView> {
  readonly items: readonly View[];
  readonly nextCursor: string | null;
}

export interface EventPage {
  readonly aggregateId: string;
  readonly events: readonly StoredEvent[];
  readonly nextCursor: string | null;
}

export interface HistoryAnswer {
  readonly version: number;
  readonly at?: string;
  /** Who made this version (`alice`, `process:<name>` for a workflow); absent on events from before users. */
  readonly actor?: string;
  /**
   * The aggregate's state as it was (a deleted one is still there, status `deleted`, unlike
   * the view `GET` answers).
   */
  readonly state: DeploymentView;
}

/** A request as the signing hook sees it; the hook returns the headers to send. */
export interface OutgoingRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export type SignRequest = (
  request: OutgoingRequest,
) => Promise<Record<string, string>> | Record<string, string>;

export interface ApiClientOptions {
  /** e.g. `http://localhost:3001` or the stack's API URL (no trailing slash needed). */
  readonly baseUrl: string;
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** A request without an answer after this long is a `NetworkError` (kind `timeout`). Default 10 s. */
  readonly timeoutMs?: number;
  /** Signs each request (e.g. SigV4 in Node): gets the request, returns the headers to send. */
  readonly signRequest?: SignRequest;
  /** Sent as `x-correlation-id` when given. */
  readonly correlationId?: () => string | undefined;
  /**
   * The signed-in user's ID token, sent as `authorization: Bearer <token>` (client/identity.ts).
   * On a 401 the client asks it once for a refreshed token (`{ refresh: true }`) and resends
   * once; a second 401 is a SignInRequiredError (as is any 401 without a provider).
   */
  readonly token?: TokenProvider;
}

/** Codes an error answer can carry: the server's catalogue, or GATEWAY_ERROR for an answer outside it. */
export type ApiErrorCode = ErrorCode | 'GATEWAY_ERROR';

/** The server answered with an error (any non-2xx). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly correlationId?: string,
  ) {
    super(message);
  }

  /** The server's `Retry-After`, when it sent one (a 429 or 503): wait at least this long. */
  retryAfterMs?: number;

  /**
   * The server's own 4xx (a rule, validation, not found, a conflict): the same request gets the
   * same answer. Not a 408 or 429 (nothing was done; later it may be), nor an answer outside the
   * catalogue (a gateway's or a proxy's, e.g. an expired credential's 403): those may succeed
   * later, and a 5xx may even have been applied.
   */
  get isFinal(): boolean {
    return (
      this.status >= 400 &&
      this.status < 500 &&
      this.status !== 408 &&
      this.status !== 429 &&
      this.code !== 'GATEWAY_ERROR'
    );
  }
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110); else undefined. */
export const retryAfterMsOf = (header: string | null, now = Date.now()): number | undefined => {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** Why a request needs a (new) sign-in: see SignInRequiredError. */
export type SignInReason =
  /** The server refused the token, and the refreshed one too (or there is no token provider). */
  | 'refused'
  /** The token provider has no token: nobody is signed in. */
  | 'no-token'
  /** The command was queued by another user than the one signed in: it was not sent. */
  | 'other-user';

/**
 * Sign in (again): the server answered 401 to the token and to a refreshed one, or the command
 * belongs to a user who is not the one signed in. The command client holds its outbox (nothing
 * is resent, nothing dropped) until `client.signedIn()`; a query simply throws it.
 */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
  constructor(
    readonly reason: SignInReason,
    message: string,
    /** `other-user`: the user the command was queued by, and who is signed in (if anyone). */
    readonly user?: string,
    readonly signedIn?: string,
  ) {
    super(message);
  }
}

/** No answer: the network failed or the request timed out. Safe to resend with the same commandId. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly kind: 'network' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A success answer (the command was applied) carrying an event this code cannot decode: the
 * server runs a newer version (a deploy bumped an event schema). `answer` has its events as
 * received; the command client settles the command from it and marks the app outdated. Resending
 * would only get the same answer again.
 */
export class UndecodableAnswerError extends Error {
  override readonly name = 'UndecodableAnswerError';
  constructor(
    readonly answer: CommandAnswer,
    /** The codec's error (a CorruptEventError: `Stored event 2 of aggregate … is unreadable`). */
    readonly decodeError: unknown,
  ) {
    super(decodeError instanceof Error ? decodeError.message : String(decodeError));
  }
}

const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);

/** Reads an error answer: the one error shape of the API, or a gateway's own `{ message }`. */
export const toApiError = (status: number, body: unknown, correlationId?: string): ApiError => {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    ?.error;
  if (error && isErrorCode(error.code)) {
    return new ApiError(
      status,
      error.code,
      typeof error.message === 'string' ? error.message : error.code,
      typeof error.details === 'object' && error.details !== null
        ? (error.details as Record<string, unknown>)
        : {},
      correlationId,
    );
  }
  const message = (body as { message?: unknown })?.message;
  return new ApiError(
    status,
    'GATEWAY_ERROR',
    typeof message === 'string' ? message : `HTTP ${status}`,
    {},
    correlationId,
  );
};

export type HistoryQuery = { readonly version: number } | { readonly at: string };

export interface ApiClient {
  readonly baseUrl: string;
  sendCommand(command: CommandRequest): Promise<CommandAnswer>;
  /** `GET /{collection}/{id}`: the view (e.g. `getView('shopping-lists', id)`). */
  getView<View extends DeploymentView = DeploymentView>(
    collection: string,
    id: string,
    options?: { readonly minVersion?: number },
  ): Promise<View>;
  /**
   * `GET /{collection}?<param>=<value>`: a page of a list the collection's view declares, e.g.
   * `listViews('shopping-lists', { ownerId: 'u-1' })`; pass `nextCursor` back as `cursor`.
   */
  listViews<View extends DeploymentView = DeploymentView>(
    collection: string,
    query: Readonly<Record<string, string | number | undefined>>,
  ): Promise<ViewPage<View>>;
  getEvents(
    collection: string,
    id: string,
    options?: { readonly limit?: number; readonly cursor?: string },
  ): Promise<EventPage>;
  getHistory(collection: string, id: string, query: HistoryQuery): Promise<HistoryAnswer>;
  /** `GET /read-models/{name}/{key}`: a declared read model's row (404 when it has none). */
  getReadModel<Row = unknown>(name: string, key: string): Promise<ReadModelAnswer<Row>>;
  /**
   * Who the token provider's current token names (decoded, not verified: for predictions), or
   * undefined without a provider or a token.
   */
  principal?(): Promise<Principal | undefined>;
}

/** A read model's row as `GET /read-models/{name}/{key}` answers it. */
export interface ReadModelAnswer<Row = unknown> {
  readonly readModel: string;
  /** The projection's version that wrote the row. */
  readonly version: number;
  readonly key: string;
  readonly row: Row;
}

const queryString = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
};

export const createApiClient = (options: ApiClientOptions): ApiClient => {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  /** One send of a request, with this token (if any): the raw answer, or a NetworkError. */
  const send = async (
    method: 'GET' | 'POST',
    path: string,
    text: string | undefined,
    token: string | undefined,
  ): Promise<{ response: Response; parsed: unknown }> => {
    const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (text !== undefined) headers['content-type'] = 'application/json';
    const correlationId = options.correlationId?.();
    if (correlationId) headers['x-correlation-id'] = correlationId;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const url = `${baseUrl}${path}`;
    const signed = options.signRequest
      ? await options.signRequest({
          method,
          url,
          headers,
          ...(text !== undefined && { body: text }),
        })
      : headers;

    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await doFetch(url, {
        method,
        headers: signed,
        body: text,
        signal: abort.signal,
      });
      const raw = await response.text();
      let parsed: unknown;
      try {
        parsed = raw === '' ? {} : JSON.parse(raw);
      } catch {
        parsed = { message: raw };
      }
      return { response, parsed };
    } catch (error) {
      if (abort.signal.aborted) {
        throw new NetworkError('timeout', `${method} ${path}: no answer within ${timeoutMs} ms`);
      }
      throw new NetworkError(
        'network',
        `${method} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  };

  /** A command queued by `user` goes only with a token of `user` (nothing is sent otherwise). */
  const checkUser = (user: string | undefined, token: string | undefined) => {
    if (user === undefined) return;
    const signedIn = principalOfToken(token)?.subject;
    if (signedIn === user) return;
    throw new SignInRequiredError(
      token === undefined ? 'no-token' : 'other-user',
      signedIn === undefined
        ? `Sign in as ${user}: the command is theirs and nobody is signed in`
        : `Sign in as ${user}: the command is theirs, not ${signedIn}'s; it was not sent`,
      user,
      signedIn,
    );
  };

  const request = async <T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    user?: string,
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    let token = options.token ? await options.token() : undefined;
    checkUser(user, token);
    let { response, parsed } = await send(method, path, text, token);
    // A refused token: one refreshed token, one resend; a second refusal means "sign in".
    if (response.status === 401 && options.token) {
      token = await options.token({ refresh: true });
      if (token === undefined) {
        throw new SignInRequiredError('no-token', `${method} ${path}: sign in (no token)`);
      }
      checkUser(user, token);
      ({ response, parsed } = await send(method, path, text, token));
    }
    if (response.status === 401) {
      throw new SignInRequiredError(
        'refused',
        `${method} ${path}: sign in again (the server refused the token: ${toApiError(401, parsed).message})`,
      );
    }
    const answerCorrelation = response.headers.get('x-correlation-id') ?? undefined;
    if (response.status < 200 || response.status >= 300) {
      const error = toApiError(response.status, parsed, answerCorrelation);
      const retryAfterMs = retryAfterMsOf(response.headers.get('retry-after'));
      if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
      throw error;
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  };

  const id = (value: string) => encodeURIComponent(value);

  return {
    baseUrl,
    async sendCommand(command) {
      const answer = await request<
        { aggregateId: string; version: number; events: StoredEvent[] } & Record<string, unknown>
      >(
        'POST',
        '/commands',
        {
          type: command.type,
          aggregateId: command.aggregateId,
          payload: command.payload,
          commandId: command.commandId,
          ...(command.expectedVersion !== undefined && {
            expectedVersion: command.expectedVersion,
          }),
        },
        command.user,
      );
      // The coupled answer carries the row under its view's name (`order`, `shopping-list`).
      const viewName = aggregateOfCommand(command.type)?.viewName;
      const row = viewName === undefined ? undefined : answer.body[viewName];
      const received: CommandAnswer = {
        status: answer.status,
        aggregateId: answer.body.aggregateId,
        version: answer.body.version,
        events: answer.body.events ?? [],
        ...(viewName !== undefined &&
          viewName in answer.body && { view: (row ?? null) as DeploymentView | null }),
        replayed: answer.headers.get('x-command-replayed') === 'true',
        retries: Number(answer.headers.get('x-command-retries') ?? 0),
        ...(answer.headers.get('x-correlation-id') !== null && {
          correlationId: answer.headers.get('x-correlation-id')!,
        }),
      };
      try {
        // The server's codec upcast them already; decoding here too keeps the client right
        // against a server older than this code (the same codec, so the same shapes).
        return { ...received, events: received.events.map(decodeStoredEvent) };
      } catch (error) {
        // A server newer than this code: the answer is a success all the same.
        throw new UndecodableAnswerError(received, error);
      }
    },
    async getView<View>(collection: string, viewId: string, query: { minVersion?: number } = {}) {
      return (
        await request<View>(
          'GET',
          `/${collection}/${id(viewId)}${queryString({ minVersion: query.minVersion })}`,
        )
      ).body;
    },
    async listViews<View extends DeploymentView>(
      collection: string,
      query: Readonly<Record<string, string | number | undefined>>,
    ) {
      const path = `/${encodeURIComponent(collection)}${queryString({ ...query })}`;
      return (await request<ViewPage<View>>('GET', path)).body;
    },
    async getEvents(collection, aggregateId, query = {}) {
      const page = (
        await request<EventPage>(
          'GET',
          `/${collection}/${id(aggregateId)}/events${queryString({ ...query })}`,
        )
      ).body;
      return { ...page, events: (page.events ?? []).map(decodeStoredEvent) };
    },
    async getHistory(collection, aggregateId, query) {
      return (
        await request<HistoryAnswer>(
          'GET',
          `/${collection}/${id(aggregateId)}/history${queryString({ ...query })}`,
        )
      ).body;
    },
    async getReadModel<Row>(name: string, key: string) {
      return (await request<ReadModelAnswer<Row>>('GET', `/read-models/${id(name)}/${id(key)}`))
        .body;
    },
    principal: async () => (options.token ? principalOfToken(await options.token()) : undefined),
  };
};
