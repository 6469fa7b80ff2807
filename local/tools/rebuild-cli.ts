/**
 * `npm run rebuild -- <projection> [--version N] [--until <ISO time>] [--segments K]`: replays
 * the event table (a parallel Scan, never the stream) into one version of a declared projection,
 * or into a build as of a past moment, while the served version keeps serving and the live
 * projector keeps updating. Resumable: a rerun continues from each segment's last checkpoint.
 * Against `npm start`'s DynamoDB Local by default; against AWS with `--aws` and the table names.
 */
import { parseArgs } from 'node:util';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Presets, SingleBar } from 'cli-progress';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import {
  buildName,
  canonicalTime,
  CHECKPOINT_EVENTS,
  createReadPace,
  finishRebuild,
  rebuildSegment,
  RebuildError,
  type RebuildTarget,
  startRebuild,
  UNTIL_SAFETY_MARGIN_MS,
  untilRefusal,
} from '../../lambdas/core/repair/rebuild';
import { DynamoDbRebuildState } from '../../lambdas/core/repair/dynamodb-rebuild-state';
import type { RebuildStatus } from '../../lambdas/core/repair/rebuild-state';
import type { AnyRowProjection } from '../../lambdas/core/projections/row-projection';
import { describeVersions } from '../../lambdas/core/projections/served-versions';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { tablesFor } from '../emulators/runtime';
import {
  LOCAL_RUNTIME_FILE,
  type LocalRuntimeFile,
  readRuntimeFile,
  restartCommand,
  type RuntimeStart,
} from '../emulators/runtime-file';
import { DynamoDbEventScan } from '../../lambdas/core/events/dynamodb-event-store';

/** Where `npm start` writes its DynamoDB Local endpoint (local/tools/cli.ts), read as the default. */
/** Written by `npm start` (local/emulators/runtime-file.ts). */
export const RUNTIME_FILE = LOCAL_RUNTIME_FILE;
export const DEFAULT_SEGMENTS = 4;

export const USAGE = `Usage: npm run rebuild -- <projection> [options]

Rebuilds a declared projection from the event table (a parallel Scan) into its own storage,
beside the version being served; rerun the same command to resume after a crash.

  <projection>               a name from lambdas/handlers/deployment.ts: ${PROJECTIONS.map((p) => p.name).join(', ')}
  --version <n>              which listed version to build     (default: the highest listed)
  --until <ISO time>         build it as of that past moment, served with ?asOf=<time>;
                             at least ${UNTIL_SAFETY_MARGIN_MS / 1000} s ago (its last events may still be landing)
  --segments <k>             parallel Scan segments, 1-1000    (default ${DEFAULT_SEGMENTS})
  --page-size <n>            events per Scan page               (default: DynamoDB's 1 MB pages)
  --max-rate <n>             events read per second, all segments together, to leave the
                             table's capacity to live traffic   (default: as fast as it goes)
  --checkpoint-events <n>    events between saved progress points, at most: a rerun after a
                             crash reads at most this many again per segment (default ${CHECKPOINT_EVENTS})
  --restart                  forget the saved progress and scan again (rows are never doubled)

Where (default: the DynamoDB Local of a running \`npm start\`, tables local-decoupled-*):
  --endpoint <url>           DynamoDB endpoint (env DYNAMODB_ENDPOINT; default from ${RUNTIME_FILE})
  --table-prefix <prefix>    local tables <prefix>-decoupled-*  (default local)
  --event-table <name>       event table
  --projections-table <name> declared projections' table
  --aws                      use AWS (credentials and Region from the environment), no endpoint

  --help                     this text
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The running `npm start` (from its runtime file) whose tables a rebuild writes. */
export interface LocalStack {
  readonly stack: 'decoupled' | 'coupled';
  /** The stack's API URL, with the port it really listens on. */
  readonly apiUrl?: string;
  readonly start?: RuntimeStart;
}

export interface RebuildCliOptions {
  readonly target: RebuildTarget;
  readonly segments: number;
  readonly pageSize?: number;
  /** Events read per second, all segments together (createReadPace). */
  readonly maxRate?: number;
  /** Events between checkpoints, at most (SegmentOptions.checkpointEvents). */
  readonly checkpointEvents?: number;
  readonly restart: boolean;
  readonly endpoint?: string;
  /** Against AWS: the printed commands are the deployed stack's. */
  readonly aws?: boolean;
  /** The running `npm start` whose tables these are, when there is one. */
  readonly local?: LocalStack;
  readonly eventTable: string;
  readonly projectionsTable: string;
}

const integer = (name: string, value: string | undefined, min: number, max: number) => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return parsed;
};

/** The projection (name and version) among the deployment's; the error lists the known ones. */
export const findProjection = (
  name: string,
  version: number | undefined,
  projections: readonly AnyRowProjection[] = PROJECTIONS,
): AnyRowProjection => {
  const named = projections.filter((p) => p.name === name);
  if (named.length === 0) {
    throw new UsageError(
      `unknown projection "${name}"; this deployment lists ${describeVersions(projections)}`,
    );
  }
  if (version === undefined) return named.reduce((a, b) => (b.version > a.version ? b : a));
  const found = named.find((p) => p.version === version);
  if (!found) {
    throw new UsageError(
      `${name} has no version ${version} in this deployment; listed: ${describeVersions(named)} (a new version is declared in its domain folder and added to lambdas/handlers/deployment.ts)`,
    );
  }
  return found;
};

export const parseRebuildCli = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  projections: readonly AnyRowProjection[] = PROJECTIONS,
  now: () => number = Date.now,
  runtime: () => LocalRuntimeFile | undefined = readRuntimeFile,
): { help: true } | { help: false; options: RebuildCliOptions } => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        version: { type: 'string' },
        until: { type: 'string' },
        segments: { type: 'string' },
        'page-size': { type: 'string' },
        'max-rate': { type: 'string' },
        'checkpoint-events': { type: 'string' },
        restart: { type: 'boolean' },
        endpoint: { type: 'string' },
        'table-prefix': { type: 'string' },
        'event-table': { type: 'string' },
        'projections-table': { type: 'string' },
        aws: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new UsageError(
      `give one projection to rebuild (${describeVersions(projections)}), got ${positionals.length}`,
    );
  }
  const projection = findProjection(
    positionals[0]!,
    integer('version', values.version, 1, 1_000_000_000),
    projections,
  );
  let until: string | undefined;
  if (values.until !== undefined) {
    until = canonicalTime(values.until);
    if (!until) {
      throw new UsageError(
        `--until must be an ISO-8601 date-time with Z or an offset, e.g. 2026-11-23T10:00:00Z (got "${values.until}")`,
      );
    }
    const refusal = untilRefusal(until, now());
    if (refusal) throw new UsageError(`--${refusal}`);
  }
  if (values.aws && (values.endpoint || values['table-prefix'])) {
    throw new UsageError(
      '--aws takes the table names (--event-table, --projections-table), no endpoint',
    );
  }
  const localTables = tablesFor(values['table-prefix'] ?? 'local', 'decoupled');
  const eventTable = values['event-table'] ?? (values.aws ? undefined : localTables.eventTable);
  const projectionsTable =
    values['projections-table'] ?? (values.aws ? undefined : localTables.projectionsTable);
  if (!eventTable || !projectionsTable) {
    throw new UsageError(
      '--aws needs --event-table and --projections-table (the stack outputs EventTableName and ProjectionsTableName)',
    );
  }
  const running = values.aws ? undefined : runtime();
  const endpoint = values.aws
    ? undefined
    : (values.endpoint ?? env.DYNAMODB_ENDPOINT ?? running?.dynamoDbEndpoint);
  if (!values.aws && !endpoint) {
    throw new UsageError(
      `no DynamoDB endpoint: start \`npm start\` (it writes ${RUNTIME_FILE}), pass --endpoint <url>, or --aws for AWS`,
    );
  }
  // The running npm start whose tables these are: the printed commands use its URLs and flags.
  const stack =
    running?.dynamoDbEndpoint === endpoint
      ? (['decoupled', 'coupled'] as const).find(
          (s) => running?.tables[s]?.projectionsTable === projectionsTable,
        )
      : undefined;
  const local: LocalStack | undefined =
    running && stack
      ? { stack, apiUrl: running.apiUrls?.[stack], start: running.start }
      : undefined;
  return {
    help: false,
    options: {
      target: { projection, ...(until && { until }) },
      segments: integer('segments', values.segments, 1, 1000) ?? DEFAULT_SEGMENTS,
      pageSize: integer('page-size', values['page-size'], 1, 1_000_000),
      maxRate: integer('max-rate', values['max-rate'], 1, 10_000_000),
      checkpointEvents: integer('checkpoint-events', values['checkpoint-events'], 1, 1_000_000),
      restart: values.restart ?? false,
      ...(endpoint && { endpoint }),
      aws: values.aws ?? false,
      ...(local && { local }),
      eventTable,
      projectionsTable,
    },
  };
};

const formatRate = (events: number, ms: number) =>
  `${Math.round(events / Math.max(ms / 1000, 0.001)).toLocaleString('en-US')} events/s`;

export interface RebuildReport {
  readonly build: string;
  /** `failed`: every segment done, some events not applied; `running`: not every segment done. */
  readonly status: RebuildStatus;
  readonly done: boolean;
  readonly events: number;
  readonly aggregates: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly ms: number;
  readonly caughtUp: boolean;
}

/** Runs a rebuild to the end; progress on `out` (a bar on a terminal, else a line every 2 s). */
export const runRebuild = async (
  options: RebuildCliOptions,
  out: NodeJS.WriteStream = process.stderr,
): Promise<RebuildReport> => {
  const client = new DynamoDBClient({
    ...(options.endpoint && {
      endpoint: options.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  try {
    // Both tables must exist before anything is written.
    let itemCount = 0;
    for (const table of [options.eventTable, options.projectionsTable]) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
        if (table === options.eventTable) itemCount = Table?.ItemCount ?? 0;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          throw new RebuildError(
            `table ${table} does not exist${options.endpoint ? ` at ${options.endpoint}` : ''}`,
          );
        }
        const cause = error instanceof Error ? error.message : String(error);
        throw new RebuildError(
          `cannot reach DynamoDB${options.endpoint ? ` at ${options.endpoint} (is \`npm start\` running?)` : ''}: ${cause}`,
        );
      }
    }
    const doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const state = new DynamoDbRebuildState(doc, options.projectionsTable);
    const rows = new DynamoDbProjectionRows(doc, options.projectionsTable);
    const { target, segments } = options;
    const build = buildName(target);
    const { header, resumed, retried } = await startRebuild(state, target, segments, {
      restart: options.restart,
    });
    const started = performance.now();
    if (header.status === 'complete') {
      const totals = await finishRebuild(state, target);
      return { build, ...totals, ms: 0, caughtUp: totals.status === 'complete' };
    }
    if (retried) {
      out.write(`${build} failed last time: starting it over (events already applied stay)\n`);
    }
    const before = await Promise.all(
      Array.from({ length: segments }, (_, i) => state.getSegment(build, i)),
    );
    const already = before.reduce((n, p) => n + (p?.events ?? 0), 0);
    out.write(
      `${resumed ? 'Resuming' : 'Rebuilding'} ${build} from ${options.eventTable} (${segments} segments${resumed ? `, ${already} events already done` : ''})\n`,
    );
    let events = 0;
    let segmentsDone = before.filter((p) => p?.done).length;
    const total = () => Math.max(itemCount, already + events);
    const bar = out.isTTY
      ? new SingleBar(
          {
            stream: out,
            format:
              ' {bar} {percentage}% | {value}/{total} events | {rate} | segments {segmentsDone}/{segments}',
            hideCursor: true,
            fps: 5,
          },
          Presets.shades_classic,
        )
      : undefined;
    const payload = () => ({
      rate: formatRate(events, performance.now() - started),
      segmentsDone,
      segments,
    });
    bar?.start(total(), already, payload());
    let lastLine = performance.now();
    const tick = (n: number) => {
      events += n;
      if (bar) {
        bar.setTotal(total());
        bar.update(already + events, payload());
      } else if (performance.now() - lastLine > 2000) {
        lastLine = performance.now();
        out.write(
          `  ${already + events}/~${total()} events, ${payload().rate}, segments ${segmentsDone}/${segments}\n`,
        );
      }
    };
    const pace = options.maxRate === undefined ? undefined : createReadPace(options.maxRate);
    try {
      await Promise.all(
        Array.from({ length: segments }, async (_, segment) => {
          const progress = await rebuildSegment(
            { scan: new DynamoDbEventScan(client, options.eventTable), rows, state },
            target,
            segment,
            segments,
            {
              pageSize: options.pageSize,
              onEvents: tick,
              ...(pace && { pace }),
              ...(options.checkpointEvents !== undefined && {
                checkpointEvents: options.checkpointEvents,
              }),
            },
          );
          if (progress.done) segmentsDone++;
        }),
      );
    } finally {
      bar?.update(already + events, payload());
      bar?.stop();
    }
    const ms = performance.now() - started;
    const totals = await finishRebuild(state, target);
    out.write(`  ${events} events in ${(ms / 1000).toFixed(1)} s, ${formatRate(events, ms)}\n`);
    return { build, ...totals, ms, caughtUp: totals.status === 'complete' };
  } finally {
    client.destroy();
  }
};

/** What the operator reads at the end: caught up or not, and how to switch (or query). */
export const summary = (options: RebuildCliOptions, report: RebuildReport): string => {
  const { projection, until } = options.target;
  const name = projection.name;
  const lines = [
    `${report.build}: ${report.events} events of ${report.aggregates} aggregates${report.failures ? `, ${report.failures} not applied` : ''}.`,
  ];
  if (report.status === 'failed') {
    lines.push(
      `Failed: ${report.failures} events could not be applied (first: ${report.firstFailure ?? 'unknown'}).`,
      until
        ? `${report.build} is marked failed and is not served with ?asOf=.`
        : `${report.build} is marked failed: do not switch queries to it.`,
      'Fix the cause (the reducer, or the event), then run the same command again: a failed build starts over, and events already applied are not applied twice.',
    );
    return lines.join('\n');
  }
  if (!report.caughtUp) {
    lines.push('Not finished: some segments are not done; run the same command again to resume.');
    return lines.join('\n');
  }
  const { local } = options;
  // Where the query goes: the running stack's API, the deployed one, or a placeholder.
  const api = local?.apiUrl
    ? {
        curl: 'curl -s -H "authorization: Bearer $(npm run -s token -- --user admin)"',
        base: `${local.apiUrl}/`,
        note: `the running ${local.stack} API, as the dev admin`,
      }
    : options.aws
      ? {
          curl: 'curl -s "${auth[@]}"',
          base: '${API}',
          note: 'API and auth set as in docs/operations/deploying.md',
        }
      : {
          curl: 'curl -s',
          base: '<API URL>/',
          note: `no running npm start in ${RUNTIME_FILE} uses these tables: the API URL it printed`,
        };
  if (until) {
    lines.push(
      `Built as of ${until}. Query it with ?asOf=${until} on the served version (v${projection.version}); ${api.note}:`,
      `  ${api.curl} "${api.base}read-models/${name}/<key>?asOf=${until}"`,
    );
    return lines.join('\n');
  }
  const serve = `${name}=${projection.version}`;
  const deploy = `npm run cdk -- deploy ReduxBackend-Decoupled -c servedProjectionVersions=${serve}`;
  const switchTo = options.aws
    ? `Switch queries to it:  ${deploy}`
    : local
      ? `Switch queries to it: restart npm start as it runs now, serving v${projection.version}:\n  ${restartCommand(local.start, serve)}${local.start?.dataDir ? '' : '\n  (npm start keeps its data in memory: a restart starts from empty tables; start it with --data-dir to keep them)'}`
      : `Switch queries to it:  npm start -- --serve ${serve}    (with the flags it runs with; AWS: ${deploy})`;
  lines.push(
    `Caught up: every event stored before this rebuild is in ${report.build}, and the live projector keeps it current (it runs every version listed in lambdas/handlers/deployment.ts).`,
    switchTo,
    `Roll back:             the same with the previous version (or without --serve: the lowest listed version is served)`,
  );
  return lines.join('\n');
};

const main = async () => {
  let parsed;
  try {
    parsed = parseRebuildCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(
      `error: ${(error as Error).message}\n(npm run rebuild -- --help lists the options)`,
    );
    process.exit(2);
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  try {
    const report = await runRebuild(parsed.options);
    console.log(summary(parsed.options, report));
    process.exit(report.caughtUp ? 0 : 1);
  } catch (error) {
    console.error(
      `error: ${error instanceof RebuildError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  }
};

if (require.main === module) void main();
