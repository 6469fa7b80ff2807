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
import { createProjector, type Projector } from '../core/projector';
import { createRowProjector } from '../core/row-projector';
import type { OrderView } from '../domain/order';
import { createCommandApiHandler } from './command-api';
import { appendWithRow, createCoupledApiHandler } from './coupled-api';
import { documentClient, ENV, type Environment, requireEnv } from './environment';
import { AGGREGATE_VIEW, AGGREGATES, PROJECTIONS } from './deployment';
import { createProjectorHandler } from './projector';
import { createQueryApiHandler } from './query-api';

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
 * The projector runs what its environment names: the order row where it has the read-model
 * table (decoupled), the declared projections where it has their table (both stacks; the
 * coupled stack's projector has only that one: its order row is written with the events).
 */
export const projectorHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env);
  const logger = loggerFor('projector', options);
  const events = stores.events();
  const orders = env[ENV.readModelTable]
    ? createProjector({ projection: AGGREGATE_VIEW, rows: stores.rows(), events, log: logger })
    : undefined;
  const readModels = stores.readModels();
  const declared = readModels && createRowProjector({ ...readModels, events, log: logger });
  if (!orders && !declared) {
    throw new Error(
      `The projector has nothing to project: set ${ENV.readModelTable} or ${ENV.projectionsTable}`,
    );
  }
  return createProjectorHandler({
    logger,
    aggregateType: AGGREGATE_VIEW.aggregateType,
    project: orders && declared ? both(orders, declared) : (orders ?? declared)!,
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
    // Served from the rows the coupled stack's projector writes (docs/decisions.md).
    readModels: stores.readModels(),
    runCommand: createCommandRunner({
      store: events,
      aggregates: AGGREGATES,
      append: appendWithRow(events, rows),
      retry: options.retry,
    }),
  });
};
