/**
 * HTTP edge helpers for API Gateway HTTP API (payload format 2.0): body checks, one JSON
 * error shape, and the single place where errors become status codes.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ZodType } from 'zod';
import { throttlingOf } from '../core/shared/dynamodb-limits';
import {
  AppError,
  errorMessageOf,
  internalError,
  unhandledErrorFields,
  ValidationError,
} from '../core/shared/errors';
import type { Log } from '../core/shared/log';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

/** Largest command body accepted. API Gateway allows 10 MB; events should stay far smaller. */
export const MAX_BODY_BYTES = 256 * 1024;

export const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The one error shape: `{ error: { code, message, details } }`; 500 never leaks internals. */
export const toErrorResponse = (
  thrown: unknown,
  log: Log,
  headers: Record<string, string> = {},
): HttpResult => {
  // Throttling from any DynamoDB call (the read-model adapter's too) is a 503, not a 500.
  const error = throttlingOf(thrown) ?? thrown;
  if (error instanceof AppError) {
    // Logged once, here: a 500 code (a corrupt event) is an error, a 503 a warning.
    if (error.status >= 500) {
      const fields = { code: error.code, reason: error.message, details: error.details };
      if (error.status === 500) log.error('Request failed', fields);
      else log.warn('Request failed', fields);
    }
    const retryAfter: Record<string, string> = error.status === 503 ? { 'retry-after': '1' } : {};
    return json(error.status, { error: errorMessageOf(error) }, { ...headers, ...retryAfter });
  }
  log.error('Unhandled error', unhandledErrorFields(error));
  const internal = internalError();
  return json(internal.status, { error: errorMessageOf(internal) }, headers);
};

const header = (event: HttpEvent, name: string): string | undefined => {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/** The caller's `x-correlation-id`, or a new one. A malformed one is a 400. */
export const correlationIdOf = (event: HttpEvent): string => {
  const given = header(event, CORRELATION_HEADER);
  if (given === undefined || given === '') return randomUUID();
  if (!CORRELATION_ID.test(given)) {
    throw new ValidationError('Invalid x-correlation-id header', [
      {
        path: `headers.${CORRELATION_HEADER}`,
        message: 'must be 1-128 characters of A-Z a-z 0-9 . _ : -',
      },
    ]);
  }
  return given;
};

/** Content type, size and JSON checks of a request body (415, 413, 400). */
export const parseJsonBody = (event: HttpEvent): unknown => {
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType.trim())) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json', {
      contentType: contentType || null,
    });
  }
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The body is over ${MAX_BODY_BYTES} bytes`, {
      maxBytes: MAX_BODY_BYTES,
      bytes: raw.length,
    });
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('INVALID_JSON', 'The body is not valid JSON');
  }
};

/** Parses with a zod schema; failures become a 400 naming each field (prefixed by `where`). */
export const parseWith = <T>(schema: ZodType<T>, value: unknown, where: string): T => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    `Invalid ${where}`,
    parsed.error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
};
