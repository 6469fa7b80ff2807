/**
 * The HTTP edge shared by the command, query and coupled APIs: the correlation id on every log
 * line and answer, errors turned into the one error shape (./http.ts), the command envelope
 * read and stamped (ids, clock) and the command deadline.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { CommandContext, CommandInput, CommandResult } from '../core/command/command-runner';
import { type Principal, principalFromClaims } from '../core/identity/principal';
import {
  CORRELATION_HEADER,
  correlationIdOf,
  type HttpEvent,
  type HttpResult,
  parseJsonBody,
  parseWith,
  toErrorResponse,
} from './http';
import { createInvocationLoggers } from './invocation-loggers';

export const AGGREGATE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const commandEnvelope = z.strictObject({
  type: z.string().min(1).max(128),
  aggregateId: z.string().regex(AGGREGATE_ID, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'),
  payload: z.record(z.string(), z.unknown()).optional(),
  expectedVersion: z.number().int().min(0).optional(),
  commandId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -')
    .optional(),
});

export interface HttpEdgeDependencies {
  readonly logger: Logger;
  readonly now?: () => string;
  readonly newId?: () => string;
  /** Longest a command may take, retries included (ms); default COMMAND_DEADLINE_MS. */
  readonly commandDeadlineMs?: number;
}

/**
 * A command answers within this bound (docs/reference/commands.md, "Command deadline"): well
 * below API Gateway's 29 s integration limit and the functions' 10 s timeout, so a client always
 * gets our answer
 * (COMMAND_DEADLINE, 503 + Retry-After) rather than the gateway's bare 500/504.
 */
export const COMMAND_DEADLINE_MS = 5_000;
/** Kept free of the Lambda's remaining time for answering and logging. */
export const DEADLINE_MARGIN_MS = 500;

/**
 * When the command's answer is due: the bound counted from when the gateway received the request
 * (`receivedAt`, its `requestContext.timeEpoch`: time spent before the function ran, a cold start
 * or the gateway's own work, is inside the bound), and never past the function's remaining time
 * less a margin. A receipt time that is not credible (later than now, or more than the bound
 * before it: clocks apart, a made-up event) counts from now.
 */
export const commandDeadline = (
  deps: HttpEdgeDependencies,
  context?: Context,
  receivedAt?: number,
): number => {
  const now = Date.now();
  const bound = deps.commandDeadlineMs ?? COMMAND_DEADLINE_MS;
  const start =
    receivedAt !== undefined && receivedAt <= now && receivedAt >= now - bound ? receivedAt : now;
  const remaining = context ? context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS : bound;
  return Math.min(start + bound, now + Math.max(0, remaining));
};

/**
 * Wraps an HTTP handler body: correlation id on every log line and on the answer, and every
 * error mapped to the one error shape. Each invocation logs through its own child logger
 * (reused from invocation to invocation, never shared by two at once: ./invocation-loggers.ts),
 * so concurrent requests in one process (the local gateway) never share or swap keys; `body`
 * gets it as `log`.
 */
export const withHttpEdge = (
  deps: HttpEdgeDependencies,
  body: (
    event: HttpEvent,
    correlationId: string,
    log: Logger,
    context?: Context,
  ) => Promise<HttpResult>,
) => {
  const loggers = createInvocationLoggers(deps.logger);
  return async (event: HttpEvent, context?: Context): Promise<HttpResult> => {
    let correlationId: string | undefined;
    const log = loggers.acquire(context);
    try {
      correlationId = correlationIdOf(event);
      log.appendKeys({ correlationId });
      const result = await body(event, correlationId, log, context);
      return { ...result, headers: { ...result.headers, [CORRELATION_HEADER]: correlationId } };
    } catch (error) {
      correlationId ??= randomUUID();
      log.appendKeys({ correlationId });
      return toErrorResponse(error, log, { [CORRELATION_HEADER]: correlationId });
    } finally {
      loggers.release(log, context);
    }
  };
};

/**
 * The caller, from the claims API Gateway's JWT authorizer verified and passed on
 * (`requestContext.authorizer.jwt.claims`; the local gateway passes the same). No claims: 401.
 */
export const principalOf = (event: HttpEvent): Principal => {
  const context = event.requestContext as HttpEvent['requestContext'] & {
    readonly authorizer?: { readonly jwt?: { readonly claims?: Record<string, unknown> } };
  };
  return principalFromClaims(context.authorizer?.jwt?.claims);
};

/** Reads and validates the command envelope and stamps the edge values (ids, clock). */
export const readCommand = (
  event: HttpEvent,
  correlationId: string,
  deps: HttpEdgeDependencies,
  lambda?: Context,
): { input: CommandInput; context: CommandContext } => {
  const actor = principalOf(event);
  const envelope = parseWith(commandEnvelope, parseJsonBody(event), 'body');
  const newId = deps.newId ?? randomUUID;
  return {
    input: {
      ...envelope,
      payload: envelope.payload ?? {},
      commandId: envelope.commandId ?? newId(),
    },
    context: {
      correlationId,
      actor,
      now: deps.now ?? (() => new Date().toISOString()),
      newId,
      deadline: commandDeadline(deps, lambda, event.requestContext.timeEpoch),
    },
  };
};

export const logCommandResult = (logger: Logger, input: CommandInput, result: CommandResult) =>
  logger.info(result.replayed ? 'Command replayed' : 'Command accepted', {
    type: input.type,
    aggregateId: input.aggregateId,
    commandId: input.commandId,
    version: result.version,
    events: result.events.length,
    retries: result.retries,
  });

/**
 * How the command went, for clients and the benchmark: retries after lost version races, and
 * whether the answer is a replay of an earlier run of the same `commandId`.
 */
export const commandResultHeaders = (result: CommandResult): Record<string, string> => ({
  'x-command-retries': String(result.retries),
  'x-command-replayed': String(result.replayed),
});
