/**
 * Builds each function's dependencies from its environment. The Lambda entry points
 * (./entry/*.ts) call these once at cold start; the local runtime calls them with its own
 * environment per stack, so both run the same code.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createCommandRunner, type RetryPolicy } from '../core/command-runner';
import { DynamoDbEventStore } from '../core/dynamodb-event-store';
import { DynamoDbReadModel } from '../core/dynamodb-read-model';
import { DynamoDbProjectionRows } from '../core/dynamodb-projection-rows';
import { DynamoDbStreamBatchReader } from '../core/dynamodb-stream-reader';
import { createProjector, type Projector } from '../core/projector';
import { createReprojector } from '../core/reproject';
import { createRowProjector } from '../core/row-projector';
import { orderProjection, type OrderView } from '../domain/order';
import { createCommandApiHandler } from './command-api';
import { appendWithRow, createCoupledApiHandler } from './coupled-api';
import { documentClient, ENV, type Environment, requireEnv } from './environment';
import { AGGREGATES, PROJECTIONS } from './deployment';
import { createProjectorHandler } from './projector';
import { createQueryApiHandler } from './query-api';
import { createRedriveHandler } from './redrive';

export { AGGREGATES } from './deployment';

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
    /** The declared projections' rows, where this function has their table. */
    readModels: () => {
      const table = env[ENV.projectionsTable];
      return table
        ? { projections: PROJECTIONS, rows: new DynamoDbProjectionRows(client, table) }
        : undefined;
    },
  };
};

/** Runs both projectors on every batch; a record fails when either failed it (retries are safe). */
const both =
  (first: Projector, second: Projector): Projector =>
  async (records, log) => {
    const [a, b] = await Promise.all([first(records, log), second(records, log)]);
    const failed = new Set([...a.failed, ...b.failed]);
    return {
      failed: records.filter((r) => failed.has(r.id)).map((r) => r.id),
      applied: a.applied + b.applied,
      ignored: a.ignored,
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
    readModels: stores.readModels(),
  });
};

/**
 * The deployment's projector (the order row and every declared projection) over this
 * environment's tables: what the stream feeds, and what a re-projection reuses.
 */
export const projectorFromEnv = (env: Environment, logger: Logger) => {
  const stores = storesFor(env);
  const events = stores.events();
  const orders = createProjector({
    projection: orderProjection,
    rows: stores.rows(),
    events,
    log: logger,
  });
  const readModels = stores.readModels();
  return {
    events,
    aggregateType: orderProjection.aggregateType,
    project: readModels
      ? both(orders, createRowProjector({ ...readModels, events, log: logger }))
      : orders,
  };
};

export const projectorHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('projector', options);
  const { project, aggregateType } = projectorFromEnv(env, logger);
  return createProjectorHandler({ logger, aggregateType, project });
};

/** Re-projection of named aggregates into every projection (redrive, `npm run reproject`). */
export const reprojectorFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('reproject', options);
  const { project, aggregateType, events } = projectorFromEnv(env, logger);
  return createReprojector({ events, project, aggregateType, log: logger });
};

/** The redrive function: the projector's dead-letter queue -> re-projection (docs: "Redrive"). */
export const redriveHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('redrive', options);
  return createRedriveHandler({
    logger,
    reproject: reprojectorFromEnv(env, { ...options, logger }),
    stream: DynamoDbStreamBatchReader.forEndpoint(env[ENV.dynamoDbEndpoint], env.AWS_REGION),
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
