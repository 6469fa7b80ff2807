/**
 * Builds each function's dependencies from its environment. The Lambda entry points
 * (./entry/*.ts) call these once at cold start; the local runtime calls them with its own
 * environment per stack, so both run the same code.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createCommandRunnerInTurn } from '../core/command/aggregate-queue';
import type { RetryPolicy } from '../core/command/command-runner';
import { DynamoDbEventStore } from '../core/events/dynamodb-event-store';
import { DynamoDbSnapshotStore } from '../core/command/dynamodb-snapshot-store';
import { DEFAULT_SNAPSHOT_EVERY } from '../core/command/snapshots';
import { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import { DynamoDbStreamBatchReader } from '../core/repair/dynamodb-stream-reader';
import { createReprojector } from '../core/repair/reproject';
import { createProcessRerunner } from '../core/repair/rerun-processes';
import { createRowProjector } from '../core/projections/row-projector';
import type { AnyRowProjection, ProjectionRowStore } from '../core/projections/row-projection';
import { servedProjections } from '../core/projections/served-versions';
import { DynamoDbRebuildState } from '../core/repair/dynamodb-rebuild-state';
import { buildStatus } from '../core/repair/rebuild-state';
import { createCommandApiHandler } from './command-api';
import { appendWithViews, createCoupledApiHandler } from './coupled-api';
import { documentClient } from './document-client';
import { ENV, type Environment, requireEnv } from './environment';
import { AGGREGATES, COLLECTIONS, PROCESS_MANAGERS, PROJECTIONS } from './deployment';
import { createProjectorHandler } from './projector';
import { pushedRowsFor, pushingRowStore, writerPushFromEnv, type WriterPush } from './push-wiring';
import { createQueryApiHandler } from './query-api';
import { createRedriveHandler } from './redrive';
import { createWorkflowsHandler, sendThroughRunner } from './workflows';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { AnyProcessManager } from '../core/workflows/process-manager';
import { createProcessRunner, type TimerScheduler } from '../core/workflows/process-runner';
import { SchedulerTimers } from '../core/workflows/eventbridge-scheduler-timers';

export { AGGREGATES } from './deployment';

export interface WiringOptions {
  readonly logger?: Logger;
  readonly retry?: RetryPolicy;
  /** Longest a command may take, retries included (ms); default COMMAND_DEADLINE_MS. */
  readonly commandDeadlineMs?: number;
  /** The declared projections (default: the deployment's PROJECTIONS), e.g. two versions. */
  readonly projections?: readonly AnyRowProjection[];
  /** The row projector's source-state cache size (core/projections/row-projector.ts); 0 turns it off. */
  readonly projectorCacheSize?: number;
  /** The row projector's cache of the rows it wrote or read (`rowCacheSize`); 0 turns it off. */
  readonly projectorRowCacheSize?: number;
}

const loggerFor = (serviceName: string, options: WiringOptions) =>
  options.logger ?? new Logger({ serviceName });

/** SNAPSHOT_EVERY, checked at cold start: a typo must not silently turn snapshots off. */
export const snapshotEveryOf = (env: Environment): number => {
  const raw = env[ENV.snapshotEvery];
  if (raw === undefined || raw === '') return DEFAULT_SNAPSHOT_EVERY;
  const every = Number(raw);
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new Error(`Environment variable ${ENV.snapshotEvery} must be a positive integer: ${raw}`);
  }
  return every;
};

/** The stores a function may use, over one client; each reads its table name when asked for. */
const storesFor = (env: Environment, options: WiringOptions = {}) => {
  const client = documentClient(env);
  return {
    events: () =>
      new DynamoDbEventStore(client, requireEnv(env, ENV.eventTable), {
        commandsTable: env[ENV.commandsTable],
      }),
    /** Snapshots, where this function has their table (the command functions). */
    snapshots: () => {
      const table = env[ENV.snapshotsTable];
      // A snapshot stops the runner reading the events it covers: without their markers, a
      // command resent after it would be decided again.
      if (table && !env[ENV.commandsTable]) {
        throw new Error(`${ENV.snapshotsTable} needs ${ENV.commandsTable} (idempotency markers)`);
      }
      return table
        ? { store: new DynamoDbSnapshotStore(client, table), every: snapshotEveryOf(env) }
        : undefined;
    },
    /** The declared projections' rows, where this function has their table. */
    readModels: () => {
      const table = env[ENV.projectionsTable];
      return table
        ? {
            projections: options.projections ?? PROJECTIONS,
            rows: new DynamoDbProjectionRows(client, table),
          }
        : undefined;
    },
  };
};

/** `?asOf=` builds: served when their rebuild header says `complete` (core/repair/rebuild-state.ts). */
const rebuildBuilds = (client: ReturnType<typeof documentClient>, table: string) => {
  const state = new DynamoDbRebuildState(client, table);
  return { status: async (build: string) => buildStatus(await state.getHeader(build)) };
};

export const commandHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env);
  return createCommandApiHandler({
    logger: loggerFor('command', options),
    commandDeadlineMs: options.commandDeadlineMs,
    runCommand: createCommandRunnerInTurn({
      store: stores.events(),
      snapshots: stores.snapshots(),
      aggregates: AGGREGATES,
      retry: options.retry,
    }),
  });
};

/**
 * The declared projections a function's `GET /read-models` serves: one version per name, the
 * configured one (SERVED_PROJECTION_VERSIONS), else the lowest listed (served-versions.ts).
 * The query function (decoupled) and the coupled function alike.
 */
const servedReadModels = (env: Environment, stores: ReturnType<typeof storesFor>) => {
  const readModels = stores.readModels();
  return (
    readModels && {
      ...readModels,
      projections: servedProjections(readModels.projections, env[ENV.servedProjectionVersions]),
      builds: rebuildBuilds(documentClient(env), requireEnv(env, ENV.projectionsTable)),
    }
  );
};

/** `GET /processes/{name}/{key}`: the process managers' records, in the projections table. */
const processesServed = (readModels: { readonly rows: ProjectionRowStore } | undefined) =>
  readModels && { managers: PROCESS_MANAGERS, rows: readModels.rows };

export const queryHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const stores = storesFor(env, options);
  const readModels = servedReadModels(env, stores);
  return createQueryApiHandler({
    logger: loggerFor('query', options),
    events: stores.events(),
    readModels,
    processes: processesServed(readModels),
  });
};

/**
 * The deployment's projector over this environment's tables: every declared projection (each
 * collection's view, and the read models fed by many aggregates; on the coupled stack it skips
 * the views the command wrote with its events). What the stream feeds, and what a
 * re-projection reuses.
 */
export const projectorFromEnv = (
  env: Environment,
  logger: Logger,
  options: WiringOptions = {},
  /** Posts the pushed views' rows it writes (the projector function); none for a repair. */
  push?: WriterPush,
) => {
  const stores = storesFor(env, options);
  const events = stores.events();
  const readModels = stores.readModels();
  if (!readModels) {
    throw new Error(`The projector has nothing to project: set ${ENV.projectionsTable}`);
  }
  return {
    events,
    aggregateTypes: AGGREGATES.map((aggregate) => aggregate.type),
    project: createRowProjector({
      ...readModels,
      rows: push ? pushingRowStore(readModels.rows, pushedRowsFor(env), push) : readModels.rows,
      events,
      log: logger,
      cacheSize: options.projectorCacheSize,
      rowCacheSize: options.projectorRowCacheSize,
    }),
  };
};

/**
 * The projector function: where its environment names the subscriptions table and the
 * WebSocket management endpoint, it posts each pushed view's row right after writing it (one
 * stream hop to a subscriber); a redrive or rebuild, without, leaves its rows to the notifier.
 */
export const projectorHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('projector', options);
  const { project, aggregateTypes } = projectorFromEnv(
    env,
    logger,
    options,
    writerPushFromEnv(env, 'projector', logger),
  );
  return createProjectorHandler({ logger, aggregateTypes, project });
};

/** Re-projection of named aggregates into every projection (redrive, `npm run reproject`). */
export const reprojectorFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('reproject', options);
  // A repair reads every log from version 1 and every row from the table: it must not trust
  // what an earlier run remembers, as a row deleted since (docs/decisions/projector-source-state-cache.md).
  const { project, aggregateTypes, events } = projectorFromEnv(env, logger, {
    ...options,
    projectorCacheSize: 0,
    projectorRowCacheSize: 0,
  });
  return createReprojector({ events, project, aggregateTypes, log: logger });
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

/**
 * Each collection's view at the version its GET serves, and the command runner that writes it
 * in the same transaction as the events: the coupled stack's commands, a request's or a
 * process's.
 */
const coupledCommandsFromEnv = (
  env: Environment,
  options: WiringOptions = {},
  /** Posts each view row to its subscribers after the commit (the coupled API function). */
  push?: WriterPush,
) => {
  const stores = storesFor(env, options);
  const events = stores.events();
  const readModels = servedReadModels(env, stores);
  const collections = readModels
    ? COLLECTIONS.map((c) => ({
        ...c,
        view: readModels.projections.find((p) => p.name === c.view.name) ?? c.view,
      }))
    : [];
  const runCommand = createCommandRunnerInTurn({
    store: events,
    snapshots: stores.snapshots(),
    aggregates: AGGREGATES,
    append: appendWithViews(
      events,
      readModels && {
        collections,
        rows: readModels.rows,
      },
      push,
    ),
    retry: options.retry,
  });
  return { events, readModels, collections, runCommand };
};

/**
 * The coupled API function: where its environment names the subscriptions table and the
 * WebSocket management endpoint, each command's view row is posted to its subscribers right
 * after the transaction commits, before the answer (docs/decisions/push-from-the-writer.md).
 */
export const coupledHandlerFromEnv = (env: Environment, options: WiringOptions = {}) => {
  const logger = loggerFor('coupled', options);
  const { events, readModels, collections, runCommand } = coupledCommandsFromEnv(
    env,
    options,
    writerPushFromEnv(env, 'coupled', logger),
  );
  return createCoupledApiHandler({
    logger,
    commandDeadlineMs: options.commandDeadlineMs,
    events,
    // The read models fed by many aggregates are served from the rows the coupled stack's
    // projector writes (docs/decisions/declared-projections-in-coupled.md).
    readModels,
    processes: processesServed(readModels),
    collections,
    runCommand,
  });
};

/** Process timers: EventBridge Scheduler where the stack set its group, else `options.timers`. */
const timersFromEnv = (env: Environment, options: WorkflowsWiringOptions): TimerScheduler => {
  if (options.timers) return options.timers;
  return new SchedulerTimers(new SchedulerClient({}), {
    groupName: requireEnv(env, ENV.timerScheduleGroup),
    targetArn: requireEnv(env, ENV.timerTargetArn),
    roleArn: requireEnv(env, ENV.timerRoleArn),
  });
};

export interface WorkflowsWiringOptions extends WiringOptions {
  /** Where timers go (the local runtime's scheduler); default EventBridge Scheduler (env). */
  readonly timers?: TimerScheduler;
  /** The process managers to run. @default the deployment's PROCESS_MANAGERS */
  readonly processManagers?: readonly AnyProcessManager[];
}

/**
 * The process runner over this environment's tables: its records in the projections table, its
 * commands through the stack's own command path (with the views on the coupled stack).
 */
export const processRunnerFromEnv = (
  env: Environment,
  logger: Logger,
  options: WorkflowsWiringOptions = {},
) => {
  const stores = storesFor(env, options);
  const events = stores.events();
  const runCommand =
    env[ENV.writeViewsWithEvents] === 'true'
      ? coupledCommandsFromEnv(env, options).runCommand
      : createCommandRunnerInTurn({
          store: events,
          snapshots: stores.snapshots(),
          aggregates: AGGREGATES,
          retry: options.retry,
        });
  return createProcessRunner({
    managers: options.processManagers ?? PROCESS_MANAGERS,
    rows: new DynamoDbProjectionRows(documentClient(env), requireEnv(env, ENV.projectionsTable)),
    events,
    send: sendThroughRunner(runCommand),
    timers: timersFromEnv(env, options),
    log: logger,
  });
};

export const workflowsHandlerFromEnv = (env: Environment, options: WorkflowsWiringOptions = {}) => {
  const logger = loggerFor('workflows', options);
  return createWorkflowsHandler({
    logger,
    aggregateTypes: AGGREGATES.map((aggregate) => aggregate.type),
    runner: processRunnerFromEnv(env, logger, options),
  });
};

/**
 * The process managers run again on the events a failure names (the workflows function's
 * redrive, `npm run redrive`): the process runner of the workflows function over this
 * environment's tables, fed from the event table (docs/operations/redrive.md).
 */
export const processRedriveFromEnv = (env: Environment, options: WorkflowsWiringOptions = {}) => {
  const logger = loggerFor('workflows-redrive', options);
  return createProcessRerunner({
    events: storesFor(env, options).events(),
    runner: processRunnerFromEnv(env, logger, options),
    aggregateTypes: AGGREGATES.map((aggregate) => aggregate.type),
    log: logger,
  });
};

/** The workflows' redrive function: its dead-letter queues -> its processes, again. */
export const workflowsRedriveHandlerFromEnv = (
  env: Environment,
  options: WorkflowsWiringOptions = {},
) => {
  const logger = loggerFor('workflows-redrive', options);
  return createRedriveHandler({
    logger,
    processes: processRedriveFromEnv(env, { ...options, logger }),
    stream: DynamoDbStreamBatchReader.forEndpoint(env[ENV.dynamoDbEndpoint], env.AWS_REGION),
  });
};
