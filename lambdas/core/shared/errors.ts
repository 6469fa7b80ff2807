/**
 * The error catalogue: every failure the API can answer, with its HTTP status.
 * One source of truth for codes and statuses; handlers map errors to HTTP in one place
 * (`toErrorResponse` in handlers/http.ts); test/unit/docs.test.ts keeps the table of
 * docs/reference/api.md in step.
 */
export const ERROR_CATALOGUE = {
  INVALID_JSON: { status: 400, description: 'The body is not valid JSON.' },
  VALIDATION_FAILED: {
    status: 400,
    description: 'A field is missing or invalid; `details.issues` names each field and why.',
  },
  UNKNOWN_COMMAND_TYPE: { status: 400, description: 'No aggregate handles this command type.' },
  INVALID_CURSOR: {
    status: 400,
    description:
      'The `cursor` is not one this API issued for this list (malformed, edited, or from another list).',
  },
  UNKNOWN_ACTION: {
    status: 400,
    description:
      'WebSocket only: the message has no `action` the socket serves (`subscribe`, `unsubscribe`); the socket stays open.',
  },
  TOO_MANY_SUBSCRIPTIONS: {
    status: 429,
    description:
      'WebSocket only: the connection already follows the most rows one connection may (`details.limit`); unsubscribe from one first. The socket stays open.',
  },
  UNAUTHENTICATED: {
    status: 401,
    description:
      'The request carries no valid token (missing, expired, or for another issuer or audience). The HTTP gateways answer this themselves as `{"message":"Unauthorized"}`; the handlers answer it when no verified identity reached them.',
  },
  FORBIDDEN: {
    status: 403,
    description:
      'The caller may read this aggregate but not run this command on it (`details.rule` names the rule). A row the caller may not read answers NOT_FOUND instead, never this.',
  },
  NOT_FOUND: {
    status: 404,
    description: 'The aggregate, read-model row or version does not exist.',
  },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route matches the method and path.' },
  ALREADY_EXISTS: { status: 409, description: 'A create command targets an existing aggregate.' },
  VERSION_CONFLICT: {
    status: 409,
    description:
      'The aggregate is not at `expectedVersion` (or retries ran out); `details` has expected and actual version.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    description: 'The `commandId` was already used for a different command body.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is over 256 KB.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The body is not `application/json`.' },
  RULE_VIOLATED: {
    status: 422,
    description: 'A business rule forbids the command; `details.rule` names the rule.',
  },
  NOT_YET_CONSISTENT: {
    status: 503,
    description:
      'The read model did not reach `minVersion` within the wait bound; retry later (`Retry-After`).',
  },
  TRANSACTION_CONFLICT: {
    status: 503,
    description: 'DynamoDB kept cancelling the write for a concurrent transaction; retry later.',
  },
  COMMAND_DEADLINE: {
    status: 503,
    description:
      'The command was not applied within its deadline (docs/reference/commands.md, "Command deadline"), usually for losing every race for its aggregate; `details.written` is `false` or `unknown`: resend it with the same `commandId` (`Retry-After`).',
  },
  THROTTLED: {
    status: 503,
    description:
      'DynamoDB throttled the request after the SDK retries; nothing was written, retry later (`Retry-After`).',
  },
  ITEM_TOO_LARGE: {
    status: 422,
    description:
      "An event or read-model row would exceed DynamoDB's 400 KB item limit; nothing was written.",
  },
  AGGREGATE_TYPE_MISMATCH: {
    status: 409,
    description: 'The `aggregateId` belongs to an aggregate of another type.',
  },
  CORRUPT_EVENT: {
    status: 500,
    description:
      'A stored event of this aggregate cannot be read; `details` names `aggregateId` and `version`. Other aggregates are unaffected.',
  },
  INTERNAL: { status: 500, description: 'An unexpected error; details are in the logs only.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base class of every error that the API answers with its own code (anything else is a 500). */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

/**
 * Where an error becomes what a client reads, for HTTP answers (handlers/http.ts) and WebSocket
 * replies (handlers/websocket.ts) alike: an AppError as `{ code, message, details }`, anything
 * else as INTERNAL, whose internals go to the log (`unhandledErrorFields`) and never to a client.
 */
export const errorMessageOf = (error: AppError) => ({
  code: error.code,
  message: error.message,
  details: error.details,
});
export const internalError = () => new AppError('INTERNAL', 'Internal server error');
export const unhandledErrorFields = (error: unknown) => ({
  error: error instanceof Error ? (error.stack ?? error.message) : String(error),
});

/** Thrown by `decide` when a business rule forbids a command (HTTP 422). */
export class RuleViolation extends AppError {
  constructor(
    readonly rule: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super('RULE_VIOLATED', message, { rule, ...details });
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('NOT_FOUND', message, details);
  }
}

export class AlreadyExistsError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ALREADY_EXISTS', message, details);
  }
}

/** The append found the aggregate at another version than the one the command was decided on. */
export class VersionConflictError extends AppError {
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      'VERSION_CONFLICT',
      `Aggregate ${aggregateId} is at version ${actualVersion}, expected ${expectedVersion}`,
      { aggregateId, expectedVersion, actualVersion },
    );
  }
}

/** DynamoDB cancelled a transaction because another one touched the same items (retryable). */
export class TransactionConflictError extends AppError {
  constructor(message = 'The write conflicted with a concurrent transaction; retry later') {
    super('TRANSACTION_CONFLICT', message);
  }
}

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * The command's deadline came before it could be applied. `written` is `false` when no write of
 * it was in flight (it wrote nothing), `'unknown'` when its append was still in flight: a resend
 * with the same commandId then gets either the original answer (a replay) or a fresh attempt.
 */
export class CommandDeadlineError extends AppError {
  constructor(
    aggregateId: string,
    attempts: number,
    written: false | 'unknown',
    lastError?: string,
  ) {
    super(
      'COMMAND_DEADLINE',
      `The command could not be applied to ${aggregateId} before its deadline; resend it with the same commandId`,
      { aggregateId, attempts, written, ...(lastError && { lastError }) },
    );
  }
}

export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super('VALIDATION_FAILED', message, { issues });
  }
}

/** DynamoDB throttled the request (after the SDK's own retries): retryable, HTTP 503. */
export class ThrottledError extends AppError {
  constructor(readonly reason: string) {
    super('THROTTLED', 'DynamoDB is throttling requests; retry later', { reason });
  }
}

/** A write would exceed DynamoDB's item size limit; detected before DynamoDB is called. */
export class ItemTooLargeError extends AppError {
  constructor(
    what: string,
    bytes: number,
    maxBytes: number,
    details: Record<string, unknown> = {},
  ) {
    super('ITEM_TOO_LARGE', `The ${what} would be ${bytes} bytes, over DynamoDB's ${maxBytes}`, {
      item: what,
      bytes,
      maxBytes,
      ...details,
    });
  }
}

/**
 * A stored event that the event codec cannot decode (a number beyond 2^53, a missing field, a
 * wrong type). Names the event so an operator can find and repair that one item.
 */
export class CorruptEventError extends AppError {
  constructor(
    readonly aggregateId: string,
    readonly version: number | string,
    readonly reason: string,
  ) {
    super('CORRUPT_EVENT', `Stored event ${version} of aggregate ${aggregateId} is unreadable`, {
      aggregateId,
      version,
      reason,
    });
  }
}
