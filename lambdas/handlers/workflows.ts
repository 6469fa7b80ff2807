/**
 * The workflows Lambda: runs the declared process managers (core/workflows/process-runner.ts).
 * Two kinds of invocation reach it: the event table's stream, exactly as Lambda delivers it
 * (answered with `batchItemFailures`, ReportBatchItemFailures), and a due timer, the input an
 * EventBridge Scheduler schedule (locally the runtime's scheduler) invokes it with.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { CommandRunner } from '../core/command/command-runner';
import { AppError, type ErrorCode } from '../core/shared/errors';
import type { CommandOutcome } from '../core/workflows/process-manager';
import type { ProcessRunner, ProcessTimer, SendCommand } from '../core/workflows/process-runner';
import { AGGREGATE_ID } from './http-edge';
import { parseStreamRecord } from './projector';

/** What a due timer invokes the function with. */
export interface TimerInvocation {
  readonly processTimer: ProcessTimer;
}

export type WorkflowsInvocation = DynamoDBStreamEvent | TimerInvocation;

/**
 * Answers the domain gives a process's command: outcomes its process reacts to (compensation),
 * not failures. Anything else (throttling, a deadline, a bug) fails the step, which is retried.
 */
export const REFUSALS: readonly ErrorCode[] = [
  'RULE_VIOLATED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FORBIDDEN',
  'AGGREGATE_TYPE_MISMATCH',
];

/** A process's commands through the stack's own command runner, as its actor. */
export const sendThroughRunner =
  (run: CommandRunner, options: { readonly now?: () => string } = {}): SendCommand =>
  async (command, context): Promise<CommandOutcome> => {
    if (!AGGREGATE_ID.test(command.aggregateId)) {
      // E.g. a SKU no inventory can have: refused like an unknown one, nothing written.
      return {
        command,
        accepted: false,
        error: {
          code: 'VALIDATION_FAILED',
          message: `'${command.aggregateId}' cannot be an aggregate id`,
          details: { aggregateId: command.aggregateId },
        },
      };
    }
    try {
      const result = await run(
        {
          type: command.type,
          aggregateId: command.aggregateId,
          payload: command.payload,
          commandId: context.commandId,
        },
        {
          correlationId: context.correlationId,
          causationId: context.causationId,
          actor: context.actor,
          now: options.now ?? (() => new Date().toISOString()),
          newId: randomUUID,
        },
      );
      return { command, accepted: true, version: result.version };
    } catch (error) {
      if (error instanceof AppError && REFUSALS.includes(error.code)) {
        return {
          command,
          accepted: false,
          error: { code: error.code, message: error.message, details: error.details },
        };
      }
      throw error;
    }
  };

export interface WorkflowsHandlerDependencies {
  readonly runner: ProcessRunner;
  readonly logger: Logger;
  /** The deployment's aggregate types: their events are decoded, others kept as envelopes. */
  readonly aggregateTypes: readonly string[];
}

const isTimer = (event: WorkflowsInvocation): event is TimerInvocation =>
  'processTimer' in event && event.processTimer !== undefined;

export const createWorkflowsHandler =
  (deps: WorkflowsHandlerDependencies) =>
  async (event: WorkflowsInvocation, context?: Context): Promise<DynamoDBBatchResponse> => {
    const logger = deps.logger.createChild();
    if (context) logger.addContext(context);
    if (isTimer(event)) {
      const { processTimer } = event;
      logger.appendKeys({ correlationId: processTimer.correlationId });
      // A failure throws: the scheduler retries the invocation (its retry policy, then its DLQ).
      const outcome = await deps.runner.fireTimer(processTimer, logger);
      logger.info('Timer fired', {
        timer: processTimer.id,
        steps: outcome.steps,
        sent: outcome.sent,
      });
      // Nothing of a stream to retry: the answer's shape is the stream's, for one handler type.
      return { batchItemFailures: [] };
    }
    const records = event.Records.map((r, i) =>
      parseStreamRecord(r, i, deps.aggregateTypes),
    ).filter((r) => r !== undefined);
    const outcome = await deps.runner.handleRecords(records, logger);
    logger.info('Ran processes', {
      records: event.Records.length,
      sent: outcome.sent,
      failed: outcome.failed.length,
    });
    return { batchItemFailures: outcome.failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
