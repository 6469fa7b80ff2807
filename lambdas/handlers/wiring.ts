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
}

const loggerFor = (serviceName: string, options: WiringOptions) =>
  options.logger ?? new Logger({ serviceName });

const stores = (env: Environment, needs: { events: boolean; rows: boolean }) => {
  const client = documentClient(env);
  return {
    events: needs.events
      ? new DynamoDbEventStore(client, requireEnv(env, ENV.eventTable))
      : undefined,
    rows: needs.rows
      ? new DynamoDbReadModel<OrderView>(client, requireEnv(env, ENV.readModelTable))
      : undefined,
  };
};

export const commandHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const { events } = stores(env, { events: true, rows: false });
  return createCommandApiHandler({
    logger: loggerFor('command', options),
    runCommand: createCommandRunner({
      store: events!,
      aggregates: AGGREGATES,
      retry: options.retry,
    }),
  });
};

export const queryHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const { events, rows } = stores(env, { events: true, rows: true });
  return createQueryApiHandler({
    logger: loggerFor('query', options),
    rows: rows!,
    events: events!,
  });
};

export const projectorHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const { events, rows } = stores(env, { events: true, rows: true });
  const logger = loggerFor('projector', options);
  return createProjectorHandler({
    logger,
    project: createProjector({
      projection: orderProjection,
      rows: rows!,
      events: events!,
      log: logger,
    }),
  });
};

export const coupledHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const { events, rows } = stores(env, { events: true, rows: true });
  return createCoupledApiHandler({
    logger: loggerFor('coupled', options),
    rows: rows!,
    events: events!,
    runCommand: createCommandRunner({
      store: events!,
      aggregates: AGGREGATES,
      append: appendWithRow(events!, rows!),
      retry: options.retry,
    }),
  });
};
