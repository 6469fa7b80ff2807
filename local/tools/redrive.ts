/**
 * `npm run redrive` and `npm run reproject`: run again, from the event table, what a stream
 * consumer failed on.
 *
 * - redrive: reads the on-failure files `npm start` writes (each stream poller's records that
 *   exhausted their retries): the projectors' (`--file`, and `<file>.coupled.jsonl`) are
 *   re-projected into every projection; the workflows functions' (`<file>.<stack>-workflows.jsonl`)
 *   are handed to that stack's process runner again, from the first failed event of each
 *   aggregate (checkpoints and commandIds make a repeat harmless). Entries repaired leave their
 *   file; entries whose re-run failed go back, so a rerun retries only those.
 * - reproject <aggregateId>...: the same re-projection for any aggregates, on demand. An id
 *   without events (a typo, another stack's id, the wrong tables) is named as an error and the
 *   command exits 1; the other ids are re-projected all the same, and listed.
 *
 * A file is claimed before it is read (renamed to `<file>.redriving-<time>`): the poller goes
 * on appending to a new file meanwhile, so no failure recorded during a redrive is lost, and a
 * claim left by a crashed run is taken up by the next one (a re-run is idempotent).
 *
 * Where: the running `npm start` (its DynamoDB Local endpoint is in .local-data/local-runtime.json)
 * or any endpoint and tables given by flags (AWS when no endpoint is given).
 */
import { access, appendFile, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Presets, SingleBar } from 'cli-progress';
import {
  aggregateIdsOf,
  firstVersionsOf,
  type FirstVersions,
  mergeFirstVersions,
  parseFailureMessage,
} from '../../lambdas/core/repair/redrive';
import type { Rerunner, RerunResult } from '../../lambdas/core/repair/rerun';
import type { ProcessTimer, TimerScheduler } from '../../lambdas/core/workflows/process-runner';
import { ENV, type Environment } from '../../lambdas/handlers/environment';
import { processRedriveFromEnv, reprojectorFromEnv } from '../../lambdas/handlers/wiring';
import {
  coupledFailureFile,
  failureFileFor,
  type StackName,
  tablesFor,
} from '../emulators/runtime';
import { LOCAL_RUNTIME_FILE } from '../emulators/runtime-file';

export const DEFAULT_ON_FAILURE_FILE = '.local-data/failed-records.jsonl';

export const USAGE = `Usage:
  npm run redrive -- [options]                     run again what the on-failure files name
  npm run reproject -- [options] <aggregateId>...  re-project the given aggregates

redrive reads each on-failure file npm start writes, for each stack:
  <file>, <file stem>.coupled.jsonl    the projectors': re-projected into every projection
  <file stem>.<stack>-workflows.jsonl  the workflows functions': their processes run again
                                       from the failed events (nothing is sent twice)
Rows and processes are run from the event table. By default against the running \`npm start\`.
Exit status: 0 when everything was re-run; 1 when one failed, an entry stays in its file
(redrive), or an id has no events in the event table (reproject: named on stderr); 2 for bad
input.

  --file <file>               the projector's on-failure file    (default ${DEFAULT_ON_FAILURE_FILE})
  --stack <stack>             decoupled or coupled: only its files and tables (default: both;
                              decoupled with explicit tables; reproject: decoupled)
  --dry-run                   list what would be run again, write nothing
  --endpoint <url>            DynamoDB endpoint                  (env DYNAMODB_ENDPOINT; default: the
                              running npm start's, from ${LOCAL_RUNTIME_FILE})
  --table-prefix <prefix>     local tables <prefix>-<stack>-*    (default local)
  --event-table <name>        explicit tables (e.g. in AWS, without --endpoint: the SDK's
  --projections-table <name>  region and credentials); both together
  --commands-table <name>     explicit tables for a workflows file: a process's commands need
  --snapshots-table <name>    the idempotency markers (and the snapshots, where the stack has them)
  --concurrency <n>           aggregates at a time, 1-64         (default 8)
  --help                      this text
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ExplicitTables {
  readonly eventTable: string;
  readonly projectionsTable: string;
  readonly commandsTable?: string;
  readonly snapshotsTable?: string;
}

export interface RedriveCliOptions {
  readonly mode: 'redrive' | 'reproject';
  readonly aggregateIds: readonly string[];
  readonly file: string;
  readonly dryRun: boolean;
  readonly endpoint?: string;
  readonly tablePrefix: string;
  readonly tables?: ExplicitTables;
  /** Only this stack's files and tables; undefined: both (decoupled with explicit tables). */
  readonly stack?: StackName;
  readonly concurrency: number;
}

const AGGREGATE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const STACKS: readonly StackName[] = ['decoupled', 'coupled'];

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
        stack: { type: 'string' },
        'dry-run': { type: 'boolean' },
        endpoint: { type: 'string' },
        'table-prefix': { type: 'string' },
        'event-table': { type: 'string' },
        'projections-table': { type: 'string' },
        'commands-table': { type: 'string' },
        'snapshots-table': { type: 'string' },
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
  if (values.stack !== undefined && !STACKS.includes(values.stack as StackName)) {
    throw new UsageError(`--stack must be ${STACKS.join(' or ')} (got "${values.stack}")`);
  }
  const explicit = [values['event-table'], values['projections-table']];
  if (explicit.some((t) => t !== undefined) && !explicit.every((t) => t !== undefined)) {
    throw new UsageError('give --event-table and --projections-table together');
  }
  const commandTables = {
    ...(values['commands-table'] && { commandsTable: values['commands-table'] }),
    ...(values['snapshots-table'] && { snapshotsTable: values['snapshots-table'] }),
  };
  if (Object.keys(commandTables).length > 0 && explicit[0] === undefined) {
    throw new UsageError(
      'give --commands-table and --snapshots-table with --event-table and --projections-table',
    );
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
          ...commandTables,
        },
      }),
      ...(values.stack !== undefined && { stack: values.stack as StackName }),
      concurrency,
    },
  };
};

/** The DynamoDB endpoint for these options: given, or the running npm start's (none: AWS). */
const endpointFor = async (options: RedriveCliOptions): Promise<string | undefined> => {
  if (options.endpoint || options.tables) return options.endpoint;
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
  return runtime.dynamoDbEndpoint;
};

/** The stacks these options cover: `--stack`, else both (one with explicit tables). */
export const stacksOf = (options: RedriveCliOptions): readonly StackName[] =>
  options.stack ? [options.stack] : options.tables ? ['decoupled'] : STACKS;

/**
 * A stack's functions' environment for these options: its tables (explicit, or the local ones
 * by prefix) on the endpoint. `processes`: as its workflows function has it (the coupled stack's
 * commands write their views with their events).
 */
export const stackEnvironment = (
  options: RedriveCliOptions,
  endpoint: string | undefined,
  stack: StackName,
  processes = false,
): Environment => {
  const tables = options.tables ?? tablesFor(options.tablePrefix, stack);
  return {
    [ENV.eventTable]: tables.eventTable,
    [ENV.projectionsTable]: tables.projectionsTable,
    ...(tables.commandsTable && { [ENV.commandsTable]: tables.commandsTable }),
    ...(tables.snapshotsTable && { [ENV.snapshotsTable]: tables.snapshotsTable }),
    ...(processes && stack === 'coupled' && { [ENV.writeViewsWithEvents]: 'true' }),
    ...(endpoint && { [ENV.dynamoDbEndpoint]: endpoint, AWS_REGION: 'local' }),
  };
};

/** The functions' environment for these options' first stack (the endpoint of npm start when none given). */
export const environmentFor = async (options: RedriveCliOptions): Promise<Environment> =>
  stackEnvironment(options, await endpointFor(options), stacksOf(options)[0]!);

/** One on-failure file npm start writes, and whose failures it holds. */
export interface FailureSource {
  readonly file: string;
  readonly stack: StackName;
  readonly consumer: 'projector' | 'workflows';
}

/** The on-failure files of `stacks` (local/emulators/runtime.ts names them after `file`). */
export const failureSourcesFor = (file: string, stacks: readonly StackName[]): FailureSource[] =>
  stacks.flatMap((stack): FailureSource[] => [
    {
      file: stack === 'decoupled' ? file : coupledFailureFile(file),
      stack,
      consumer: 'projector',
    },
    { file: failureFileFor(file, `${stack}-workflows`), stack, consumer: 'workflows' },
  ]);

/** One line of an on-failure file and the aggregates it names. */
interface Entry {
  readonly line: string;
  readonly aggregateIds: readonly string[];
  readonly firstVersions?: FirstVersions;
  readonly problem?: string;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const entryOf = (line: string): Entry => {
  const message = parseFailureMessage(line);
  switch (message.kind) {
    case 'unreadable':
      return { line, aggregateIds: [], problem: message.reason };
    case 'aggregates':
      return { line, aggregateIds: message.aggregateIds, firstVersions: message.firstVersions };
    case 'timer':
      return { line, aggregateIds: [], problem: 'a process timer (fired by the runtime only)' };
    case 'stream-batch':
      return message.records
        ? {
            line,
            aggregateIds: aggregateIdsOf(message.records),
            firstVersions: firstVersionsOf(message.records),
          }
        : { line, aggregateIds: [], problem: 'the entry carries no records' };
    default: {
      const unhandled: never = message;
      throw new Error(`Unhandled failure message ${JSON.stringify(unhandled)}`);
    }
  }
};

const entriesOf = (text: string): Entry[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(entryOf);

/** The claims crashed runs left beside `file`. */
const earlierClaims = async (file: string): Promise<string[]> => {
  const dir = dirname(file);
  const prefix = `${basename(file)}.redriving-`;
  return readdir(dir).then(
    (names) =>
      names
        .filter((n) => n.startsWith(prefix))
        .map((n) => join(dir, n))
        .sort(),
    () => [],
  );
};

/** Whether `file` (or a crashed run's claim of it) holds failures to redrive. */
export const hasFailures = async (file: string): Promise<boolean> =>
  (await exists(file)) || (await earlierClaims(file)).length > 0;

/**
 * Claims the on-failure file (and the claims of crashed runs): returns their lines and the
 * claim files, which the caller deletes once every line is settled.
 */
export const claimFailures = async (
  file: string,
): Promise<{ entries: Entry[]; claims: string[] }> => {
  const claims = await earlierClaims(file);
  if (await exists(file)) {
    const claim = `${file}.redriving-${Date.now()}`;
    await rename(file, claim);
    claims.push(claim);
  }
  const entries: Entry[] = [];
  for (const claim of claims) entries.push(...entriesOf(await readFile(claim, 'utf8')));
  return { entries, claims };
};

/** The entries of `file` and its claims, read without claiming them (`--dry-run`). */
const peekFailures = async (file: string): Promise<Entry[]> => {
  const entries: Entry[] = [];
  for (const path of [...(await earlierClaims(file)), file]) {
    entries.push(...entriesOf(await readFile(path, 'utf8').catch(() => '')));
  }
  return entries;
};

export interface RedriveSummary {
  readonly entries: number;
  readonly repaired: number;
  /** Entries put back in the file (a re-run failed, or the entry names nothing). */
  readonly keptBack: number;
  readonly results: readonly RerunResult[];
}

/**
 * Runs again what the file names, with `rerun` (the re-projector, or the process re-runner);
 * repaired entries leave it, the others go back to it.
 */
export const redriveFile = async (
  file: string,
  rerun: Rerunner,
  onResult?: (result: RerunResult) => void,
  onClaimed?: (aggregates: number, entries: number) => void,
): Promise<RedriveSummary> => {
  const { entries, claims } = await claimFailures(file);
  const ids = [...new Set(entries.flatMap((e) => e.aggregateIds))];
  const firstVersions = entries.reduce<FirstVersions>(
    (merged, e) => (e.firstVersions ? mergeFirstVersions(merged, e.firstVersions) : merged),
    {},
  );
  onClaimed?.(ids.length, entries.length);
  const results = await rerun(ids, onResult, firstVersions);
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

const describe = (result: RerunResult): string => {
  switch (result.status) {
    case 'reprojected':
      return `${result.aggregateId}: re-projected up to version ${result.version}`;
    case 'rerun':
      return `${result.aggregateId}: processes run up to version ${result.version} (${result.sent} commands sent)`;
    case 'no-events':
      return `${result.aggregateId}: NO EVENTS (not in the event table; nothing run)`;
    case 'failed':
      return `${result.aggregateId}: FAILED: ${result.error}`;
    default: {
      const unhandled: never = result;
      return JSON.stringify(unhandled);
    }
  }
};

const succeeded = (result: RerunResult) =>
  result.status === 'reprojected' || result.status === 'rerun';

/** A bar on a terminal, a line per aggregate otherwise (CI logs, tests). */
const progressFor = (total: number) => {
  if (!process.stdout.isTTY || total === 0) {
    return { tick: (r: RerunResult) => console.log(describe(r)), stop: () => undefined };
  }
  const bar = new SingleBar(
    { format: ' {bar} {value}/{total} aggregates | {duration_formatted}', hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick: (r: RerunResult) => {
      if (!succeeded(r)) process.stdout.write(`\n${describe(r)}\n`);
      bar.increment();
    },
    stop: () => bar.stop(),
  };
};

/**
 * Where a re-run's processes set their timers: nowhere, here (this tool has no scheduler). Each
 * was set already when its step first ran, by npm start's scheduler (setting a timer again is
 * harmless); the tool names them at the end.
 */
const unkeptTimers = (): TimerScheduler & { readonly set: ProcessTimer[] } => {
  const set: ProcessTimer[] = [];
  return { set, schedule: async (timer) => void set.push(timer) };
};

/** Redrives one on-failure file with its stack's re-runner; the exit status it asks for. */
const redriveSource = async (
  source: FailureSource,
  options: RedriveCliOptions,
  endpoint: string | undefined,
  logger: Logger,
  timers: TimerScheduler,
): Promise<number> => {
  const processes = source.consumer === 'workflows';
  const env = stackEnvironment(options, endpoint, source.stack, processes);
  const where = env[ENV.dynamoDbEndpoint] ?? 'AWS';
  if (processes && !env[ENV.commandsTable]) {
    console.error(
      `error: ${source.file} not redriven: a process's commands need the stack's commands table ` +
        '(give --commands-table, and --snapshots-table where the stack has one)',
    );
    return 1;
  }
  const rerun = processes
    ? processRedriveFromEnv(env, { logger, timers }).rerun
    : reprojectorFromEnv(env, { logger });
  console.log(
    processes
      ? `Redriving ${source.file}: the ${source.stack} stack's processes, run again on ${env[ENV.eventTable]} (${where})`
      : `Redriving ${source.file} into ${env[ENV.eventTable]} -> read models (${where})`,
  );
  let progress: ReturnType<typeof progressFor> | undefined;
  const summary = await redriveFile(
    source.file,
    rerun,
    (r) => progress?.tick(r),
    (aggregates, entries) => {
      console.log(`${entries} entries name ${aggregates} aggregates`);
      progress = progressFor(aggregates);
    },
  );
  progress?.stop();
  console.log(
    summary.entries === 0
      ? `Nothing to redrive: ${source.file} has no entries.`
      : `Redrive done: ${summary.repaired} of ${summary.entries} entries repaired and removed` +
          (summary.keptBack > 0
            ? `, ${summary.keptBack} kept in ${source.file} (rerun to retry)`
            : ''),
  );
  return summary.keptBack > 0 ? 1 : 0;
};

/** `npm run redrive`: every on-failure file of the stacks that has entries. */
const redrive = async (
  options: RedriveCliOptions,
  endpoint: string | undefined,
  logger: Logger,
): Promise<number> => {
  const sources = failureSourcesFor(options.file, stacksOf(options));
  const pending: FailureSource[] = [];
  for (const source of sources) if (await hasFailures(source.file)) pending.push(source);
  if (pending.length === 0) {
    console.log(`Nothing to redrive: no entries in ${sources.map((s) => s.file).join(', ')}.`);
    return 0;
  }
  if (options.dryRun) {
    for (const source of pending) {
      const entries = await peekFailures(source.file);
      const ids = new Set(entries.flatMap((e) => e.aggregateIds));
      console.log(
        `${entries.length} entries in ${source.file} (${source.stack} ${source.consumer}) ` +
          `name ${ids.size} aggregates: ${[...ids].join(' ')}`,
      );
    }
    return 0;
  }
  const timers = unkeptTimers();
  let status = 0;
  for (const source of pending) {
    status = Math.max(status, await redriveSource(source, options, endpoint, logger, timers));
  }
  if (timers.set.length > 0) {
    console.log(
      `Timers the processes set again (not kept here: npm start's scheduler has each from the ` +
        `step's first run, until it restarts): ${timers.set.map((t) => `${t.name} of ${t.processKey}`).join(', ')}`,
    );
  }
  return status;
};

export const main = async (argv: readonly string[]): Promise<number> => {
  let options: RedriveCliOptions;
  let endpoint: string | undefined;
  try {
    const parsed = parseRedriveCli(argv, process.env);
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    options = parsed.options;
    endpoint = await endpointFor(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(
      `error: ${error.message}\n(npm run ${argv[0] === 'reproject' ? 'reproject' : 'redrive'} -- --help lists the options)`,
    );
    return 2;
  }
  const logger = new Logger({ serviceName: options.mode, logLevel: 'ERROR' });
  if (options.mode === 'redrive') return redrive(options, endpoint, logger);
  if (options.dryRun) {
    console.log(`Would re-project ${options.aggregateIds.join(' ')}`);
    return 0;
  }
  const env = stackEnvironment(options, endpoint, stacksOf(options)[0]!);
  const where = env[ENV.dynamoDbEndpoint] ?? 'AWS';
  const reproject = reprojectorFromEnv(env, { logger });
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
  results: readonly RerunResult[],
  eventTable?: string,
): { done: string; errors: string[] } => {
  const ids = [...new Set(requested)];
  const byId = new Map(results.map((r) => [r.aggregateId, r]));
  const having = (status: RerunResult['status']) =>
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
