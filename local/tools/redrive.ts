/**
 * `npm run redrive` and `npm run reproject`: repair stale read-model rows from the event table.
 *
 * - redrive: reads the local on-failure file (what the stream poller writes when a batch
 *   exhausts its retries), re-projects every aggregate its records name into every projection,
 *   and removes the entries it repaired; entries whose re-projection failed go back to the file,
 *   so a rerun retries only those.
 * - reproject <aggregateId>...: the same re-projection for any aggregates, on demand. An id
 *   without events (a typo, another stack's id, the wrong tables) is named as an error and the
 *   command exits 1; the other ids are re-projected all the same, and listed.
 *
 * The file is claimed before it is read (renamed to `<file>.redriving-<time>`): the poller goes
 * on appending to a new file meanwhile, so no failure recorded during a redrive is lost, and a
 * claim left by a crashed run is taken up by the next one (re-projection is idempotent).
 *
 * Where: the running `npm start` (its DynamoDB Local endpoint is in .local-data/local-runtime.json)
 * or any endpoint and tables given by flags (AWS when no endpoint is given).
 */
import { access, appendFile, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Presets, SingleBar } from 'cli-progress';
import { aggregateIdsOf, parseFailureMessage } from '../../lambdas/core/repair/redrive';
import type { Reprojector, ReprojectResult } from '../../lambdas/core/repair/reproject';
import { ENV, type Environment } from '../../lambdas/handlers/environment';
import { reprojectorFromEnv } from '../../lambdas/handlers/wiring';
import { LOCAL_RUNTIME_FILE } from '../emulators/runtime-file';

export const DEFAULT_ON_FAILURE_FILE = '.local-data/failed-records.jsonl';

export const USAGE = `Usage:
  npm run redrive -- [options]                   re-project what the on-failure file names
  npm run reproject -- [options] <aggregateId>...  re-project the given aggregates

Rows are rebuilt from the event table into every projection of the deployment (each
aggregate's view and the read models). By default against the running \`npm start\` (decoupled
stack).
Exit status: 0 when every aggregate was re-projected; 1 when one failed, an entry stays in the
file (redrive), or an id has no events in the event table (reproject: named on stderr); 2 for
bad input.

  --file <file>               the on-failure file (redrive)      (default ${DEFAULT_ON_FAILURE_FILE})
  --dry-run                   list what would be re-projected, write nothing
  --endpoint <url>            DynamoDB endpoint                  (env DYNAMODB_ENDPOINT; default: the
                              running npm start's, from ${LOCAL_RUNTIME_FILE})
  --table-prefix <prefix>     local tables <prefix>-decoupled-*  (default local)
  --event-table <name>        explicit tables (e.g. in AWS, without --endpoint: the SDK's
  --projections-table <name>  region and credentials); both together
  --concurrency <n>           aggregates at a time, 1-64         (default 8)
  --help                      this text
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface RedriveCliOptions {
  readonly mode: 'redrive' | 'reproject';
  readonly aggregateIds: readonly string[];
  readonly file: string;
  readonly dryRun: boolean;
  readonly endpoint?: string;
  readonly tablePrefix: string;
  readonly tables?: { eventTable: string; projectionsTable: string };
  readonly concurrency: number;
}

const AGGREGATE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Flags to options; throws UsageError for bad input (before anything is read or written). */
export const parseRedriveCli = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): { help: true } | { help: false; options: RedriveCliOptions } => {
  const [mode, ...rest] = argv;
  if (mode !== 'redrive' && mode !== 'reproject') {
    throw new UsageError('the first argument must be redrive or reproject');
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        file: { type: 'string' },
        'dry-run': { type: 'boolean' },
        endpoint: { type: 'string' },
        'table-prefix': { type: 'string' },
        'event-table': { type: 'string' },
        'projections-table': { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (mode === 'redrive' && positionals.length > 0) {
    throw new UsageError(
      `redrive takes no aggregate ids (got ${positionals.join(' ')}); use npm run reproject`,
    );
  }
  if (mode === 'reproject') {
    if (positionals.length === 0) throw new UsageError('give at least one aggregate id');
    const bad = positionals.filter((id) => !AGGREGATE_ID.test(id));
    if (bad.length > 0) {
      throw new UsageError(
        `not an aggregate id: ${bad.join(', ')} (1-64 characters of A-Z, a-z, 0-9, _ or -)`,
      );
    }
  }
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!/^\d+$/.test(values.concurrency ?? '8') || concurrency < 1 || concurrency > 64) {
    throw new UsageError(
      `--concurrency must be an integer from 1 to 64 (got "${values.concurrency}")`,
    );
  }
  const explicit = [values['event-table'], values['projections-table']];
  if (explicit.some((t) => t !== undefined) && !explicit.every((t) => t !== undefined)) {
    throw new UsageError('give --event-table and --projections-table together');
  }
  return {
    help: false,
    options: {
      mode,
      aggregateIds: positionals,
      file: values.file ?? DEFAULT_ON_FAILURE_FILE,
      dryRun: values['dry-run'] ?? false,
      endpoint: values.endpoint ?? env.DYNAMODB_ENDPOINT,
      tablePrefix: values['table-prefix'] ?? 'local',
      ...(explicit.every((t) => t !== undefined) && {
        tables: {
          eventTable: explicit[0]!,
          projectionsTable: explicit[1]!,
        },
      }),
      concurrency,
    },
  };
};

/** The functions' environment for these options (the endpoint of npm start when none given). */
export const environmentFor = async (options: RedriveCliOptions): Promise<Environment> => {
  let endpoint = options.endpoint;
  if (!endpoint && !options.tables) {
    let runtime: { dynamoDbEndpoint?: unknown };
    try {
      runtime = JSON.parse(await readFile(LOCAL_RUNTIME_FILE, 'utf8')) as typeof runtime;
    } catch {
      throw new UsageError(
        `no running local runtime found (${LOCAL_RUNTIME_FILE}): start it with npm start, or give --endpoint`,
      );
    }
    if (typeof runtime.dynamoDbEndpoint !== 'string') {
      throw new UsageError(`${LOCAL_RUNTIME_FILE} names no dynamoDbEndpoint`);
    }
    endpoint = runtime.dynamoDbEndpoint;
  }
  const tables = options.tables ?? {
    eventTable: `${options.tablePrefix}-decoupled-events`,
    projectionsTable: `${options.tablePrefix}-decoupled-read-models`,
  };
  return {
    [ENV.eventTable]: tables.eventTable,
    [ENV.projectionsTable]: tables.projectionsTable,
    ...(endpoint && { [ENV.dynamoDbEndpoint]: endpoint, AWS_REGION: 'local' }),
  };
};

/** One claimed line of the on-failure file and the aggregates it names. */
interface Entry {
  readonly line: string;
  readonly aggregateIds: readonly string[];
  readonly problem?: string;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Claims the on-failure file (and the claims of crashed runs): returns their lines and the
 * claim files, which the caller deletes once every line is settled.
 */
export const claimFailures = async (
  file: string,
): Promise<{ entries: Entry[]; claims: string[] }> => {
  const dir = dirname(file);
  const prefix = `${basename(file)}.redriving-`;
  const earlier = await readdir(dir).then(
    (names) => names.filter((n) => n.startsWith(prefix)).map((n) => join(dir, n)),
    () => [],
  );
  const claims = [...earlier.sort()];
  if (await exists(file)) {
    const claim = `${file}.redriving-${Date.now()}`;
    await rename(file, claim);
    claims.push(claim);
  }
  const entries: Entry[] = [];
  for (const claim of claims) {
    for (const line of (await readFile(claim, 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      const message = parseFailureMessage(line);
      if (message.kind === 'unreadable')
        entries.push({ line, aggregateIds: [], problem: message.reason });
      else if (message.kind === 'aggregates')
        entries.push({ line, aggregateIds: message.aggregateIds });
      else if (!message.records) {
        entries.push({ line, aggregateIds: [], problem: 'the entry carries no records' });
      } else entries.push({ line, aggregateIds: aggregateIdsOf(message.records) });
    }
  }
  return { entries, claims };
};

export interface RedriveSummary {
  readonly entries: number;
  readonly repaired: number;
  /** Entries put back in the file (a re-projection failed, or the entry names nothing). */
  readonly keptBack: number;
  readonly results: readonly ReprojectResult[];
}

/** Re-projects what the file names; repaired entries leave it, the others go back to it. */
export const redriveFile = async (
  file: string,
  reproject: Reprojector,
  onResult?: (result: ReprojectResult) => void,
  onClaimed?: (aggregates: number, entries: number) => void,
): Promise<RedriveSummary> => {
  const { entries, claims } = await claimFailures(file);
  const ids = [...new Set(entries.flatMap((e) => e.aggregateIds))];
  onClaimed?.(ids.length, entries.length);
  const results = await reproject(ids, onResult);
  const failed = new Set(results.filter((r) => r.status === 'failed').map((r) => r.aggregateId));
  const keep = entries.filter(
    (e) => e.problem !== undefined || e.aggregateIds.some((id) => failed.has(id)),
  );
  if (keep.length > 0) await appendFile(file, keep.map((e) => `${e.line}\n`).join(''));
  for (const claim of claims) await unlink(claim);
  return {
    entries: entries.length,
    repaired: entries.length - keep.length,
    keptBack: keep.length,
    results,
  };
};

const describe = (result: ReprojectResult) =>
  result.status === 'reprojected'
    ? `${result.aggregateId}: re-projected up to version ${result.version}`
    : result.status === 'no-events'
      ? `${result.aggregateId}: NO EVENTS (not in the event table; nothing projected)`
      : `${result.aggregateId}: FAILED: ${result.error}`;

/** A bar on a terminal, a line per aggregate otherwise (CI logs, tests). */
const progressFor = (total: number) => {
  if (!process.stdout.isTTY || total === 0) {
    return { tick: (r: ReprojectResult) => console.log(describe(r)), stop: () => undefined };
  }
  const bar = new SingleBar(
    { format: ' {bar} {value}/{total} aggregates | {duration_formatted}', hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick: (r: ReprojectResult) => {
      if (r.status !== 'reprojected') process.stdout.write(`\n${describe(r)}\n`);
      bar.increment();
    },
    stop: () => bar.stop(),
  };
};

export const main = async (argv: readonly string[]): Promise<number> => {
  let options: RedriveCliOptions;
  let env: Environment;
  try {
    const parsed = parseRedriveCli(argv, process.env);
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    options = parsed.options;
    env = await environmentFor(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(
      `error: ${error.message}\n(npm run ${argv[0] === 'reproject' ? 'reproject' : 'redrive'} -- --help lists the options)`,
    );
    return 2;
  }
  const logger = new Logger({ serviceName: options.mode, logLevel: 'ERROR' });
  const reproject = reprojectorFromEnv(env, { logger });
  const where = env[ENV.dynamoDbEndpoint] ?? 'AWS';
  if (options.mode === 'redrive') {
    if (options.dryRun) {
      const file = await readFile(options.file, 'utf8').catch(() => '');
      const lines = file.split('\n').filter((l) => l.trim() !== '');
      const ids = new Set<string>();
      for (const line of lines) {
        const message = parseFailureMessage(line);
        if (message.kind === 'aggregates') message.aggregateIds.forEach((id) => ids.add(id));
        if (message.kind === 'stream-batch' && message.records)
          aggregateIdsOf(message.records).forEach((id) => ids.add(id));
      }
      console.log(
        `${lines.length} entries in ${options.file} name ${ids.size} aggregates: ${[...ids].join(' ')}`,
      );
      return 0;
    }
    console.log(`Redriving ${options.file} into ${env[ENV.eventTable]} -> read models (${where})`);
    let progress: ReturnType<typeof progressFor> | undefined;
    const summary = await redriveFile(
      options.file,
      reproject,
      (r) => progress?.tick(r),
      (aggregates, entries) => {
        console.log(`${entries} entries name ${aggregates} aggregates`);
        progress = progressFor(aggregates);
      },
    );
    progress?.stop();
    console.log(
      summary.entries === 0
        ? `Nothing to redrive: ${options.file} has no entries.`
        : `Redrive done: ${summary.repaired} of ${summary.entries} entries repaired and removed` +
            (summary.keptBack > 0
              ? `, ${summary.keptBack} kept in ${options.file} (rerun to retry)`
              : ''),
    );
    return summary.keptBack > 0 ? 1 : 0;
  }
  if (options.dryRun) {
    console.log(`Would re-project ${options.aggregateIds.join(' ')}`);
    return 0;
  }
  console.log(`Re-projecting ${options.aggregateIds.length} aggregates (${where})`);
  const progress = progressFor(options.aggregateIds.length);
  const results = await reproject(options.aggregateIds, (r) => progress.tick(r));
  progress.stop();
  const summary = summarizeReprojection(options.aggregateIds, results, env[ENV.eventTable]);
  console.log(summary.done);
  for (const line of summary.errors) console.error(line);
  return summary.errors.length > 0 ? 1 : 0;
};

/**
 * What `npm run reproject` says at the end, ids in the order given: the ones done (stdout), and
 * as errors (stderr, exit 1) the ones without events (a typo, another stack's id, the wrong
 * tables: nothing was projected for them) and the ones that failed.
 */
export const summarizeReprojection = (
  requested: readonly string[],
  results: readonly ReprojectResult[],
  eventTable?: string,
): { done: string; errors: string[] } => {
  const ids = [...new Set(requested)];
  const byId = new Map(results.map((r) => [r.aggregateId, r]));
  const having = (status: ReprojectResult['status']) =>
    ids.filter((id) => byId.get(id)?.status === status);
  const [done, missing, failed] = [having('reprojected'), having('no-events'), having('failed')];
  const of = `of ${ids.length} aggregate`;
  return {
    done: `Re-projected ${done.length} ${of}s${done.length > 0 ? `: ${done.join(' ')}` : ''}`,
    errors: [
      ...(missing.length > 0
        ? [
            `error: no events for ${missing.length} ${of} ids: ${missing.join(' ')} ` +
              `(nothing projected for them: check the ids${eventTable ? ` and the event table, ${eventTable}` : ''})`,
          ]
        : []),
      ...(failed.length > 0
        ? [`error: re-projection failed for ${failed.length} ${of}s: ${failed.join(' ')}`]
        : []),
    ],
  };
};

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error('error:', error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
