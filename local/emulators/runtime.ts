/**
 * Both stacks on this machine: a development identity provider (local/emulators/identity-provider.ts)
 * whose tokens every gateway verifies as API Gateway's authorizers do, DynamoDB Local, each
 * stack's tables (from the definitions the CDK stacks use), a gateway per stack in front of the
 * very handlers that are deployed, and
 * a stream poller per stack in place of Lambda's event source mapping (the decoupled projector;
 * the coupled stack's projector of declared projections), and one more per stack in place of the
 * EventBridge pipe that publishes domain events to the stack's bus (./event-bus.ts).
 * `npm start` (local/tools/cli.ts) runs it; the benchmark and the tests start it in-process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { basename, dirname, extname, join } from 'node:path';
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { rememberingVerifier } from '../../lambdas/core/identity/token-verifier';
import { ENV } from '../../lambdas/handlers/environment';
import type { Route } from '../../lambdas/handlers/routes';
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
  workflowsHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { createLocalScheduler, type LocalScheduler } from './scheduler';
import { assertPortFree, type RunningDynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { createLocalEventBus, type LocalEventBus, startBusPublisher } from './event-bus';
import { type HttpHandler, type RunningGateway, startGateway } from './gateway';
import { type RunningIdentityProvider, startIdentityProvider } from './identity-provider';
import { type PushOptions, pushPortFor, startPush } from './push';
import {
  type PollerLog,
  startStreamPoller,
  type StreamPoller,
  type StreamPollerOptions,
} from './stream-poller';
import { ensureTables, localFunctionEnv, type StackTables } from './tables';

export type StackName = 'decoupled' | 'coupled';
export type HandlerLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

export interface LocalRuntimeOptions {
  /** Interface the APIs listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Default 3001; 0 picks a free port. */
  readonly decoupledPort?: number;
  /** Default 3002; 0 picks a free port. */
  readonly coupledPort?: number;
  /**
   * The development identity provider's port. Default DEFAULT_IDENTITY_PORT (3005), or a free
   * port when every served stack's API port is 0 (as the tests start it); 0 picks a free port.
   */
  readonly identityPort?: number;
  /** Which stacks to serve. Default both. */
  readonly stacks?: readonly StackName[];
  /** Keep DynamoDB Local's data in this directory across restarts. Default: in memory. */
  readonly dataDir?: string;
  /** Use this running DynamoDB Local instead of starting one (stop() leaves it running). */
  readonly dynamoDbEndpoint?: string;
  /** DynamoDB Local's port when this runtime starts it. Default: a free port. */
  readonly dynamoDbPort?: number;
  /** Table names are `<prefix>-<stack>-events`, `<prefix>-<stack>-read-models`, ... Default `local`. */
  readonly tablePrefix?: string;
  /** The decoupled stack's event source mapping (defaults: Lambda's). */
  readonly poller?: StreamPollerOptions;
  /** Live updates: WebSocket ports and API Gateway's connection limits (local/emulators/push.ts). */
  readonly push?: PushOptions;
  /** No per-request log lines. */
  readonly quiet?: boolean;
  /** Level of the handlers' own JSON logs (Powertools). Default WARN. */
  readonly handlerLogLevel?: HandlerLogLevel;
  /** Where log lines go. Default console.log. */
  readonly log?: (line: string) => void;
  /** Origins allowed to call the APIs from a browser (CORS). Default: the demo app's. */
  readonly corsOrigins?: readonly string[];
  /** Which version of a declared projection is served, `name=version,...` (served-versions.ts). */
  readonly servedProjectionVersions?: string;
  /** Process managers (the workflows function): its timers (local/emulators/scheduler.ts). */
  readonly workflows?: {
    readonly timerDelayMs?: number;
    /** Run no process manager (tests of one aggregate's exact versions). @default true */
    readonly enabled?: boolean;
  };
  /** The local event bus's JSON-lines log (local/emulators/event-bus.ts). Default: none. */
  readonly eventLogFile?: string;
  /**
   * Run the functions fed by streams: the projector, the workflows function, the event bus's
   * pipe and push's notifier. `false`: only the gateways and the functions behind them, as a
   * Lambda function instance runs beside no other function (the bench measures the coupled
   * function's CPU alone so: docs/benchmark.md, "Cost and CPU per command"). Commands are
   * answered and their rows pushed by the writer; nothing else reads the streams.
   * @default true
   */
  readonly streamFunctions?: boolean;
}

/** The development identity provider, as the runtime exposes it. */
export interface RuntimeIdentity {
  /** `http://host:port`, the issuer's URL (`/token`, `/users`, `/.well-known/jwks.json`). */
  readonly url: string;
  /** `iss` of its tokens (the URL). */
  readonly issuer: string;
  /** `aud` of its tokens: the app client id the gateways accept. */
  readonly audience: string;
  /** A signed ID token for a dev user (alice, bob, support, admin); options for tests. */
  readonly tokenFor: RunningIdentityProvider['tokenFor'];
}

export interface LocalRuntime {
  readonly decoupledUrl?: string;
  readonly coupledUrl?: string;
  readonly dynamoDbEndpoint: string;
  /** The process id of DynamoDB Local when this runtime started it. */
  readonly dynamoDbPid?: number;
  readonly tables: { readonly decoupled?: StackTables; readonly coupled?: StackTables };
  /** The decoupled stack's projector poller (none with `streamFunctions: false`). */
  readonly poller?: StreamPoller;
  /** The coupled stack's projector poller (declared projections only; none either). */
  readonly coupledPoller?: StreamPoller;
  /** Each stack's process timers (EventBridge Scheduler's stand-in). */
  readonly schedulers?: { readonly decoupled?: LocalScheduler; readonly coupled?: LocalScheduler };
  /** Each stack's WebSocket URL (live updates). */
  readonly websocketUrls: { readonly decoupled?: string; readonly coupled?: string };
  /** Where tokens come from; every gateway verifies them against its keys. */
  readonly identity: RuntimeIdentity;
  /** Both stacks' domain events, as their EventBridge buses deliver them (subscribe in tests). */
  readonly bus: LocalEventBus;
  /**
   * Stops the gateways, the poller, DynamoDB Local (if started here) and the identity
   * provider, in that order.
   */
  stop(): Promise<void>;
}

/** The poller's log lines through a Powertools logger, like the handlers' own. */
const pollerLog = (logger: Logger): PollerLog => ({
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
});

/** How often the local event bus's pipe polls each stream (EventBridge Pipes: about 4 times a second). */
export const PIPE_POLL_INTERVAL_MS = 250;

export const DEFAULT_PORTS = { decoupled: 3001, coupled: 3002 } as const;

export const DEFAULT_IDENTITY_PORT = 3005;

/** The identity provider's port: as configured, else a free one when every API port is free. */
export const identityPortFor = (apiPorts: readonly number[], configured?: number): number =>
  configured ?? (apiPorts.length > 0 && apiPorts.every((p) => p === 0) ? 0 : DEFAULT_IDENTITY_PORT);

export const tablesFor = (prefix: string, stack: StackName): StackTables => ({
  eventTable: `${prefix}-${stack}-events`,
  snapshotsTable: `${prefix}-${stack}-snapshots`,
  commandsTable: `${prefix}-${stack}-commands`,
  // Every view and read model, fed by a projector in both stacks (the coupled one skips the
  // views written with the events: docs/decisions/declared-projections-in-coupled.md).
  projectionsTable: `${prefix}-${stack}-read-models`,
});

/** Another consumer's on-failure file beside the decoupled projector's: `x.jsonl` -> `x.<tag>.jsonl`. */
export const failureFileFor = (file: string, tag: string): string => {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.${tag}${ext}`);
};

/** The coupled projector's on-failure file beside the decoupled one's: `x.jsonl` -> `x.coupled.jsonl`. */
export const coupledFailureFile = (file: string): string => failureFileFor(file, 'coupled');

export const startLocalRuntime = async (
  options: LocalRuntimeOptions = {},
): Promise<LocalRuntime> => {
  const host = options.host ?? '127.0.0.1';
  const stacks = new Set<StackName>(options.stacks ?? ['decoupled', 'coupled']);
  const prefix = options.tablePrefix ?? 'local';
  const log = options.log ?? ((line: string) => console.log(line));
  const streamFunctions = options.streamFunctions !== false;
  const ports = {
    decoupled: options.decoupledPort ?? DEFAULT_PORTS.decoupled,
    coupled: options.coupledPort ?? DEFAULT_PORTS.coupled,
  };
  const identityPort = identityPortFor(
    [...stacks].map((stack) => ports[stack]),
    options.identityPort,
  );
  // Check the ports before starting anything, so a clash fails fast with one clear line.
  for (const stack of stacks) {
    if (ports[stack] !== 0) await assertPortFree(ports[stack], host, `The ${stack} API port`);
  }
  if (identityPort !== 0) {
    await assertPortFree(identityPort, host, 'The identity provider port');
  }

  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  let client: DynamoDBClient | undefined;
  try {
    // First, so every gateway can verify its tokens; stopped last.
    const idp = await startIdentityProvider({
      host,
      port: identityPort,
      cors: { allowOrigins: options.corsOrigins },
    });
    cleanup.push(() => idp.close());
    // The keys are known in-process: no JWKS fetch (but for a token under an unknown kid). A
    // token accepted is remembered until it expires: one signature check per token, not one
    // per request (the answers are the same).
    const verifyToken = rememberingVerifier(
      createJwtVerifier({
        issuer: idp.issuer,
        audience: idp.audience,
        jwks: idp.jwks,
      }),
    );
    let dynamo: RunningDynamoDbLocal | undefined;
    if (!options.dynamoDbEndpoint) {
      dynamo = await startDynamoDbLocal({ dataDir: options.dataDir, port: options.dynamoDbPort });
      cleanup.push(() => dynamo!.stop());
    }
    const endpoint = options.dynamoDbEndpoint ?? dynamo!.endpoint;
    client = new DynamoDBClient({
      endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const envFor = (tables: StackTables) => ({
      ...localFunctionEnv(tables, endpoint),
      // The snapshot interval, as a deployment sets it (docs/how-it-works.md, "Snapshots and
      // resent commands").
      ...(process.env[ENV.snapshotEvery] && {
        [ENV.snapshotEvery]: process.env[ENV.snapshotEvery],
      }),
      ...(options.servedProjectionVersions && {
        [ENV.servedProjectionVersions]: options.servedProjectionVersions,
      }),
    });
    const loggerFor = (serviceName: string) =>
      new Logger({ serviceName, logLevel: options.handlerLogLevel ?? 'WARN' });
    const requestLog = options.quiet ? undefined : log;
    const bus = await createLocalEventBus({
      logFile: options.eventLogFile,
      log: pollerLog(loggerFor('event-bus')),
    });
    cleanup.push(() => bus.flush());
    /** The stack's event bus pipe: one more poller on its event stream (./event-bus.ts). */
    const startStackBus = async (
      stack: StackName,
      streamArn: string,
      env: Record<string, string>,
    ) => {
      if (!streamFunctions) return;
      const publisher = await startBusPublisher({
        bus,
        stack,
        env,
        endpoint,
        streamArn,
        // A pipe polls its stream about four times a second, whatever the functions' pollers
        // do; polling faster here would only load DynamoDB Local (8 pollers run at once).
        poller: {
          ...options.poller,
          pollIntervalMs: Math.max(options.poller?.pollIntervalMs ?? 0, PIPE_POLL_INTERVAL_MS),
          ...(options.poller?.idlePollIntervalMs && {
            idlePollIntervalMs: Math.max(options.poller.idlePollIntervalMs, PIPE_POLL_INTERVAL_MS),
          }),
        },
        onFailureFile:
          options.poller?.onFailureFile &&
          failureFileFor(options.poller.onFailureFile, `${stack}-bus`),
        logger: loggerFor('bus-enrichment'),
        log: pollerLog(loggerFor('stream-poller')),
      });
      cleanup.push(() => publisher.stop());
    };

    const tables: { decoupled?: StackTables; coupled?: StackTables } = {};
    let decoupledUrl: string | undefined;
    let coupledUrl: string | undefined;
    let poller: StreamPoller | undefined;
    let coupledPoller: StreamPoller | undefined;
    const websocketUrls: { decoupled?: string; coupled?: string } = {};
    const startStackPush = async (stack: StackName, stackTables: ReturnType<typeof tablesFor>) => {
      const push = await startPush({
        ...options.push,
        stack,
        host,
        port: pushPortFor(ports[stack], options.push?.ports?.[stack]),
        endpoint,
        projectionsTable: stackTables.projectionsTable,
        subscriptionsTable: `${prefix}-${stack}-subscriptions`,
        ...(options.servedProjectionVersions && {
          servedProjectionVersions: options.servedProjectionVersions,
        }),
        poller: options.poller,
        loggerFor,
        pollerLog: pollerLog(loggerFor('stream-poller')),
        log: requestLog,
        identity: { verifyToken, issuer: idp.issuer, audience: idp.audience },
        ...(!streamFunctions && { notifier: false }),
      });
      cleanup.push(() => push.stop());
      websocketUrls[stack] = push.url;
      // What the writers (the projector, the coupled function) need to post their rows.
      return {
        [ENV.subscriptionsTable]: `${prefix}-${stack}-subscriptions`,
        [ENV.websocketManagementEndpoint]: push.managementUrl,
      };
    };

    /**
     * The stack's projector on its event stream (none with `streamFunctions: false`). The
     * decoupled one's failures go to the on-failure file itself, the coupled one's beside it.
     */
    const startStackProjector = async (
      stack: StackName,
      streamArn: string,
      env: Record<string, string | undefined>,
    ): Promise<StreamPoller | undefined> => {
      if (!streamFunctions) return undefined;
      const onFailureFile = options.poller?.onFailureFile;
      const projector = await startStreamPoller({
        endpoint,
        streamArn,
        handler: projectorHandlerFromEnv(env, { logger: loggerFor('projector') }),
        functionName: `${stack}-projector`,
        log: pollerLog(loggerFor('stream-poller')),
        ...options.poller,
        ...(stack === 'coupled' && {
          onFailureFile: onFailureFile ? coupledFailureFile(onFailureFile) : undefined,
        }),
      });
      cleanup.push(() => projector.stop());
      return projector;
    };

    const schedulers: { decoupled?: LocalScheduler; coupled?: LocalScheduler } = {};
    /** The stack's workflows function on its event stream, and its timers' scheduler. */
    const startStackWorkflows = async (
      stack: StackName,
      streamArn: string,
      env: Record<string, string | undefined>,
    ) => {
      if (options.workflows?.enabled === false || !streamFunctions) return;
      const logger = loggerFor('workflows');
      const scheduler = createLocalScheduler({
        delayMs: options.workflows?.timerDelayMs,
        log: { error: (message, extra) => logger.error(message, extra) },
      });
      cleanup.push(async () => scheduler.stop());
      const handler = workflowsHandlerFromEnv(env, { logger, timers: scheduler });
      scheduler.target(handler);
      const workflowsPoller = await startStreamPoller({
        endpoint,
        streamArn,
        handler,
        functionName: `${stack}-workflows`,
        log: pollerLog(loggerFor('stream-poller')),
        ...options.poller,
        onFailureFile: options.poller?.onFailureFile
          ? failureFileFor(options.poller.onFailureFile, `${stack}-workflows`)
          : undefined,
      });
      cleanup.push(() => workflowsPoller.stop());
      schedulers[stack] = scheduler;
    };

    if (stacks.has('decoupled')) {
      const stackTables = tablesFor(prefix, 'decoupled');
      const { eventStreamArn } = await ensureTables(client, stackTables, { stream: true });
      if (!eventStreamArn) throw new Error(`${stackTables.eventTable} has no stream`);
      tables.decoupled = stackTables;
      const env = envFor(stackTables);
      // The WebSocket gateway first: the projector posts the rows it writes through it.
      const pushEnv = await startStackPush('decoupled', stackTables);
      const functions: Record<Route['decoupled'], { functionName: string; handler: HttpHandler }> =
        {
          command: {
            functionName: 'decoupled-command',
            handler: commandHandlerFromEnv(env, { logger: loggerFor('command') }),
          },
          query: {
            functionName: 'decoupled-query',
            handler: queryHandlerFromEnv(env, { logger: loggerFor('query') }),
          },
        };
      poller = await startStackProjector('decoupled', eventStreamArn, { ...env, ...pushEnv });
      await startStackWorkflows('decoupled', eventStreamArn, env);
      await startStackBus('decoupled', eventStreamArn, env);
      const gateway = await startGateway({
        host,
        port: ports.decoupled,
        name: 'decoupled',
        log: requestLog,
        cors: { allowOrigins: options.corsOrigins },
        verifyToken,
        targetFor: (route) => functions[route.decoupled],
      });
      cleanup.push(() => gateway.close());
      decoupledUrl = gateway.url;
    }

    if (stacks.has('coupled')) {
      const stackTables = tablesFor(prefix, 'coupled');
      const { eventStreamArn } = await ensureTables(client, stackTables, { stream: true });
      if (!eventStreamArn) throw new Error(`${stackTables.eventTable} has no stream`);
      tables.coupled = stackTables;
      // The WebSocket gateway first: the coupled function and projector post through it.
      const pushEnv = await startStackPush('coupled', stackTables);
      coupledPoller = await startStackProjector('coupled', eventStreamArn, {
        ...envFor(stackTables),
        ...pushEnv,
      });
      // Its processes' commands write their views with their events, as the API's do.
      await startStackWorkflows('coupled', eventStreamArn, {
        ...envFor(stackTables),
        [ENV.writeViewsWithEvents]: 'true',
      });
      await startStackBus('coupled', eventStreamArn, envFor(stackTables));
      const target = {
        functionName: 'coupled-api',
        handler: coupledHandlerFromEnv(
          { ...envFor(stackTables), ...pushEnv },
          { logger: loggerFor('coupled') },
        ),
      };
      const gateway: RunningGateway = await startGateway({
        host,
        port: ports.coupled,
        name: 'coupled',
        log: requestLog,
        cors: { allowOrigins: options.corsOrigins },
        verifyToken,
        targetFor: () => target,
      });
      cleanup.push(() => gateway.close());
      coupledUrl = gateway.url;
    }
    client.destroy();

    return {
      decoupledUrl,
      coupledUrl,
      dynamoDbEndpoint: endpoint,
      dynamoDbPid: dynamo?.pid,
      tables,
      poller,
      coupledPoller,
      schedulers,
      websocketUrls,
      bus,
      identity: {
        url: idp.url,
        issuer: idp.issuer,
        audience: idp.audience,
        tokenFor: idp.tokenFor,
      },
      stop: stopAll,
    };
  } catch (error) {
    client?.destroy();
    await stopAll();
    throw error;
  }
};
