/**
 * Builds each function's dependencies from its environment. The Lambda entry points
 * (./entry/*.ts) call these once at cold start; the local runtime calls them with its own
 * environment per stack, so both run the same code.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createCommandRunner, type RetryPolicy } from '../core/command-runner';
import { DynamoDbEventStore } from '../core/dynamodb-event-store';
import { DynamoDbReadModel } from '../core/dynamodb-read-model';
import { createProjector } from '../core/projector';
import { orderAggregate, orderProjection, type OrderView } from '../domain/order';
import { createCommandApiHandler } from './command-api';
import { appendWithRow, createCoupledApiHandler } from './coupled-api';
import { documentClient, ENV, type Environment, requireEnv } from './environment';
import { createProjectorHandler } from './projector';
import { createQueryApiHandler } from './query-api';

/** Every aggregate this deployment serves. */
export const AGGREGATES = [orderAggregate];

export interface WiringOptions {
  readonly logger?: Logger;
  readonly retry?: RetryPolicy;
  /** Longest a command may take, retries included (ms); default COMMAND_DEADLINE_MS. */
  readonly commandDeadlineMs?: number;
}

const loggerFor = (serviceName: string, options: WiringOptions) =>
  options.logger ?? new Logger({ serviceName });

/** The stores a function may use, over one client; each reads its table name when asked for. */
const storesFor = (env: Environment) => {
  const client = documentClient(env);
  return {
    events: () => new DynamoDbEventStore(client, requireEnv(env, ENV.eventTable)),
    rows: () => new DynamoDbReadModel<OrderView>(client, requireEnv(env, ENV.readModelTable)),
  };
};

export const commandHandlerFromEnv = (env: Environment, options: WiringOptions = {}) =>
  createCommandApiHandler({
    logger: loggerFor('command', options),
    commandDeadlineMs: options.commandDeadlineMs,
    runCommand: createCommandRunner({
      store: storesFor(env).events(),
      aggregates: AGGREGATES,
      retry: options.retry,
    }),
  });

export const queryHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env);
  return createQueryApiHandler({
    logger: loggerFor('query', options),
    rows: stores.rows(),
    events: stores.events(),
  });
};

export const projectorHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env);
  const logger = loggerFor('projector', options);
  return createProjectorHandler({
    logger,
    aggregateType: orderProjection.aggregateType,
    project: createProjector({
      projection: orderProjection,
      rows: stores.rows(),
      events: stores.events(),
      log: logger,
    }),
  });
};

export const coupledHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env);
  const [events, rows] = [stores.events(), stores.rows()];
  return createCoupledApiHandler({
    logger: loggerFor('coupled', options),
    commandDeadlineMs: options.commandDeadlineMs,
    rows,
    events,
    runCommand: createCommandRunner({
      store: events,
      aggregates: AGGREGATES,
      append: appendWithRow(events, rows),
      retry: options.retry,
    }),
  });
};
