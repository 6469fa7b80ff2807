/**
 * `npm start`: both stacks on this machine. Flags (and environment variables) are listed by
 * `npm start -- --help`; each failure ends with one clear line and a non-zero exit.
 */
import { DEMO_SKUS, DEMO_UNITS, seedDemoStock } from './demo-stock';
import { parseArgs } from 'node:util';
import { servedProjections } from '../../lambdas/core/projections/served-versions';
import { DEFAULT_CORS_ORIGINS, parseCorsOrigins } from '../../lambdas/handlers/cors';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { LocalRuntimeError } from '../emulators/dynamodb-local';
import { DEV_USER_NAMES } from '../emulators/identity-provider';
import {
  DEFAULT_IDENTITY_PORT,
  DEFAULT_PORTS,
  type HandlerLogLevel,
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../emulators/runtime';
import { LOCAL_RUNTIME_FILE, removeRuntimeFile, writeRuntimeFile } from '../emulators/runtime-file';
import { POLLER_DEFAULTS, POLLER_LIMITS, StreamPollerError } from '../emulators/stream-poller';
import {
  DEFAULT_WEB_PORT,
  originsOf,
  type RunningWebServer,
  startWebServer,
  type WebIdentity,
} from '../emulators/web-server';
import { DEFAULT_EVENT_LOG_FILE } from './events';

export const USAGE = `Usage: npm start -- [options]

Serves the decoupled and the coupled stack on DynamoDB Local.

  --host <address>           interface to listen on             (env LOCAL_HOST, default 127.0.0.1)
  --decoupled-port <port>    decoupled API port, 0 = any free    (env DECOUPLED_PORT, default ${DEFAULT_PORTS.decoupled})
  --coupled-port <port>      coupled API port, 0 = any free      (env COUPLED_PORT, default ${DEFAULT_PORTS.coupled})
  --data-dir <dir>           keep DynamoDB Local's data here     (env LOCAL_DATA_DIR, default: in memory)
  --dynamodb-port <port>     DynamoDB Local's port               (default: any free port)
  --identity-port <port>     dev identity provider port, 0 = any free (env IDENTITY_PORT,
                             default ${DEFAULT_IDENTITY_PORT}; any free when both API ports are 0)

Demo app (web/, built with esbuild at start) and CORS:
  --web-port <port>          demo app port, 0 = any free         (env WEB_PORT, default ${DEFAULT_WEB_PORT})
  --cors-origins <list>      origins allowed to call the APIs from a browser, comma-separated,
                             or * (env CORS_ORIGINS, default ${DEFAULT_CORS_ORIGINS.join(',')};
                             the demo app's own origin is always added)

Stream poller (the decoupled stack's event source mapping; defaults are Lambda's):
  --poll-interval <ms>       wait between empty polls            (default ${POLLER_DEFAULTS.pollIntervalMs})
  --idle-poll-interval <ms>  local only: poll a shard idle for 1 s this often instead, and at
                             once on this runtime's writes; 0: off (default ${POLLER_DEFAULTS.idlePollIntervalMs})
  --batch-size <n>           records per projector invocation    (default ${POLLER_DEFAULTS.batchSize})
  --batching-window <ms>     gather records this long            (default ${POLLER_DEFAULTS.batchingWindowMs})
  --max-retries <n>          retries of a failing batch; --max-retries=-1: until the record
                             expires                             (default ${POLLER_DEFAULTS.maxRetries})
  --max-record-age <s>       skip older records; --max-record-age=-1: no limit (default ${POLLER_DEFAULTS.maxRecordAgeSeconds})
  --bisect                   split a failing batch in two and retry the halves
  --on-failure-file <file>   JSON lines for records that exhausted their retries
                             (default .local-data/failed-records.jsonl)

Read models:
  --serve <list>             version served per declared projection, name=version,...
                             (env SERVED_PROJECTION_VERSIONS, default: the lowest listed)

Output:
  --quiet                    no per-request log lines
  --log-level <level>        handlers' own JSON logs: DEBUG, INFO, WARN, ERROR, SILENT (default WARN)
  --help                     this text
`;

/** The settings `npm start` reads from the environment (parseCli); --serve overrides the last. */
export const SETTINGS_FROM_ENV = [
  'LOCAL_HOST',
  'DECOUPLED_PORT',
  'COUPLED_PORT',
  'LOCAL_DATA_DIR',
  'WEB_PORT',
  'CORS_ORIGINS',
  'IDENTITY_PORT',
  'SERVED_PROJECTION_VERSIONS',
] as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const integer = (name: string, value: string | undefined, min: number, max: number) => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return parsed;
};

const LOG_LEVELS: readonly HandlerLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

/** Flags and environment variables to runtime options; throws UsageError for bad input. */
export const parseCli = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
):
  | { help: true }
  | { help: false; options: LocalRuntimeOptions; web: { readonly port: number } } => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        'decoupled-port': { type: 'string' },
        'coupled-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'dynamodb-port': { type: 'string' },
        'identity-port': { type: 'string' },
        'poll-interval': { type: 'string' },
        'idle-poll-interval': { type: 'string' },
        'batch-size': { type: 'string' },
        'batching-window': { type: 'string' },
        'max-retries': { type: 'string' },
        'max-record-age': { type: 'string' },
        bisect: { type: 'boolean' },
        'on-failure-file': { type: 'string' },
        quiet: { type: 'boolean' },
        'log-level': { type: 'string' },
        'web-port': { type: 'string' },
        'cors-origins': { type: 'string' },
        serve: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.help) return { help: true };
  const logLevel = parsed['log-level']?.toUpperCase();
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as HandlerLogLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const port = (name: string, value: string | undefined) => integer(name, value, 0, 65535);
  const corsOrigins = parsed['cors-origins'] ?? env.CORS_ORIGINS;
  let origins: string[] | undefined;
  try {
    origins =
      corsOrigins === undefined ? undefined : parseCorsOrigins(corsOrigins, '--cors-origins');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const serve = parsed.serve ?? env.SERVED_PROJECTION_VERSIONS;
  if (serve !== undefined) {
    try {
      servedProjections(PROJECTIONS, serve);
    } catch (error) {
      throw new UsageError(`--serve: ${(error as Error).message}`);
    }
  }
  const pollIntervalMs = integer(
    'poll-interval',
    parsed['poll-interval'],
    ...POLLER_LIMITS.pollIntervalMs,
  );
  const idlePollIntervalMs = integer(
    'idle-poll-interval',
    parsed['idle-poll-interval'],
    ...POLLER_LIMITS.idlePollIntervalMs,
  );
  const polledEvery = pollIntervalMs ?? POLLER_DEFAULTS.pollIntervalMs;
  if (idlePollIntervalMs && idlePollIntervalMs < polledEvery) {
    throw new UsageError(
      `--idle-poll-interval must be 0 or at least the poll interval (${polledEvery} ms; got ${idlePollIntervalMs})`,
    );
  }
  return {
    help: false,
    web: { port: port('web-port', parsed['web-port'] ?? env.WEB_PORT) ?? DEFAULT_WEB_PORT },
    options: {
      ...(origins && { corsOrigins: origins }),
      ...(serve && { servedProjectionVersions: serve }),
      host: parsed.host ?? env.LOCAL_HOST,
      decoupledPort: port('decoupled-port', parsed['decoupled-port'] ?? env.DECOUPLED_PORT),
      coupledPort: port('coupled-port', parsed['coupled-port'] ?? env.COUPLED_PORT),
      dataDir: parsed['data-dir'] ?? env.LOCAL_DATA_DIR,
      // Emptied at each start; `npm run events` prints it (local/tools/events.ts).
      eventLogFile: DEFAULT_EVENT_LOG_FILE,
      dynamoDbPort: integer('dynamodb-port', parsed['dynamodb-port'], 1, 65535),
      identityPort: port('identity-port', parsed['identity-port'] ?? env.IDENTITY_PORT),
      quiet: parsed.quiet ?? false,
      handlerLogLevel: logLevel as HandlerLogLevel | undefined,
      poller: {
        pollIntervalMs,
        idlePollIntervalMs,
        batchSize: integer('batch-size', parsed['batch-size'], ...POLLER_LIMITS.batchSize),
        batchingWindowMs: integer(
          'batching-window',
          parsed['batching-window'],
          ...POLLER_LIMITS.batchingWindowMs,
        ),
        maxRetries: integer('max-retries', parsed['max-retries'], ...POLLER_LIMITS.maxRetries),
        maxRecordAgeSeconds: integer(
          'max-record-age',
          parsed['max-record-age'],
          ...POLLER_LIMITS.maxRecordAgeSeconds,
        ),
        bisectOnError: parsed.bisect,
        onFailureFile: parsed['on-failure-file'] ?? '.local-data/failed-records.jsonl',
      },
    },
  };
};

/** What `npm start` prints once both stacks are up. */
export const banner = (
  runtime: LocalRuntime,
  options: LocalRuntimeOptions,
  web?: { readonly url: string },
): string => {
  const poller = runtime.poller?.settings;
  const id = 'order-1';
  const lines = [
    '',
    'Redux serverless backend: both stacks are running locally.',
    '',
    `  decoupled API  ${runtime.decoupledUrl}   (command -> event table -> stream poller -> projector -> query)`,
    `  coupled API    ${runtime.coupledUrl}   (one function: command + fresh read model)`,
    ...(web
      ? [`  demo app       ${web.url}   (open it in a browser; it switches between both stacks)`]
      : []),
    `  WebSockets     decoupled ${runtime.websocketUrls.decoupled}   coupled ${runtime.websocketUrls.coupled}   (connect with ?token=<token>; live updates: {"action":"subscribe","collection":"orders","id":"..."})`,
    `  sign in        ${runtime.identity.url}   (dev identity provider: ${DEV_USER_NAMES.join(', ')}; a token: npm run -s token -- --user alice)`,
    `  event bus      ${options.eventLogFile ?? 'no log'}   (domain events of both stacks, as EventBridge delivers them: npm run events -- --follow)`,
    `  stock          ${DEMO_SKUS.join(', ')}: ${DEMO_UNITS} units each, once (orders of other SKUs are rejected by the fulfilment workflow)`,
    `  DynamoDB Local ${runtime.dynamoDbEndpoint}   data: ${options.dataDir ? `${options.dataDir} (kept)` : 'in memory (gone on exit; --data-dir keeps it)'}`,
    '',
    poller
      ? `  stream poller  poll ${poller.pollIntervalMs} ms, batch ${poller.batchSize}, window ${poller.batchingWindowMs} ms, retries ${poller.maxRetries}, bisect ${poller.bisectOnError ? 'on' : 'off'}, max age ${poller.maxRecordAgeSeconds} s, on-failure ${poller.onFailureFile ?? 'none'}`
      : '',
    '',
    'Try it (every request needs a token; keys live as long as this process):',
    '  TOKEN=$(npm run -s token -- --user alice)',
    `  curl -s -X POST ${runtime.decoupledUrl}/commands -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"type":"order/create","aggregateId":"${id}","payload":{"currency":"EUR"}}'`,
    `  curl -s "${runtime.decoupledUrl}/orders/${id}?minVersion=1" -H "authorization: Bearer $TOKEN"`,
    `  curl -s -X POST ${runtime.coupledUrl}/commands -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"type":"order/create","aggregateId":"${id}","payload":{"currency":"EUR"}}'`,
    `  curl -s "${runtime.coupledUrl}/orders?customerId=alice" -H "authorization: Bearer $TOKEN"`,
    '',
    options.quiet
      ? 'Ctrl-C stops everything.'
      : 'Requests are logged one per line (--quiet turns that off). Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
};

const main = async () => {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n(npm start -- --help lists the options)`);
    process.exit(2);
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  let options = parsed.options;

  // Every way out stops what was started. Signals are handled from the first moment: one that
  // arrives while starting stops the runtime as soon as it is up. An uncaught error stops it
  // too (exit 1). A hard kill is covered by DynamoDB Local's watchdog (local/emulators/dynamodb-local.ts).
  let runtime: LocalRuntime | undefined;
  let web: RunningWebServer | undefined;
  let apis: { decoupled?: string; coupled?: string } = {};
  let websockets: { decoupled?: string; coupled?: string } = {};
  let identity: WebIdentity | undefined;
  let stopping: Promise<void> | undefined;
  let pendingCode = 0;
  const shutdown = (reason: string, code: number) => {
    if (stopping) return;
    if (!runtime) {
      stopping = Promise.resolve();
      pendingCode = code;
      console.log(`\n${reason}: stopping once the start has finished...`);
      return;
    }
    console.log(
      `\n${reason}: stopping the APIs, the stream poller, DynamoDB Local and the identity provider...`,
    );
    const running = runtime;
    stopping = Promise.all([running.stop(), web?.close(), removeRuntimeFile()]).then(
      () => {
        console.log('Stopped.');
        process.exit(code);
      },
      (error: unknown) => {
        console.error('error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => shutdown('SIGHUP', 0));
  const crash = (error: unknown) => {
    console.error('error: uncaught, the local runtime stops:', error);
    if (stopping && runtime) process.exit(1);
    stopping = undefined;
    shutdown('uncaught error', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    console.log(
      'Starting the identity provider, DynamoDB Local, the tables, both APIs and the demo app...',
    );
    // The demo app first: its port (maybe a free one) is an origin the APIs must allow.
    web = await startWebServer({
      host: options.host,
      port: parsed.web.port,
      apis: () => apis,
      websockets: () => websockets,
      identity: () => identity,
    });
    const allowed = options.corsOrigins ?? DEFAULT_CORS_ORIGINS;
    options = {
      ...options,
      corsOrigins: allowed.includes('*')
        ? allowed
        : [...new Set([...allowed, ...originsOf(web.url)])],
    };
    runtime = await startLocalRuntime(options);
    apis = { decoupled: runtime.decoupledUrl, coupled: runtime.coupledUrl };
    identity = { url: runtime.identity.url };
    websockets = runtime.websocketUrls;
    await seedDemoStock(runtime);
  } catch (error) {
    if (!web && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(
        `error: The demo app port ${parsed.web.port} is already in use (--web-port picks another; 0 = any free)`,
      );
      process.exit(1);
    }
    await web?.close();
    if (error instanceof LocalRuntimeError || error instanceof StreamPollerError) {
      console.error(`error: ${error.message}`);
    } else {
      console.error('error: the local runtime could not start:', error);
    }
    process.exit(1);
  }
  if (stopping) {
    stopping = undefined;
    return shutdown('stop requested during start', pendingCode);
  }
  // Where the operator tools (npm run redrive / reproject / rebuild) find this runtime, and
  // how it was started (npm run rebuild prints the command that restarts it with --serve).
  const settingsFromEnv = Object.fromEntries(
    SETTINGS_FROM_ENV.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
  await writeRuntimeFile(runtime, LOCAL_RUNTIME_FILE, {
    args: process.argv.slice(2),
    env: settingsFromEnv,
    ...(options.dataDir && { dataDir: options.dataDir }),
  }).catch((error: unknown) =>
    console.error(`warning: cannot write ${LOCAL_RUNTIME_FILE}: ${String(error)}`),
  );
  console.log(banner(runtime, options, web));
};

if (require.main === module) void main();
