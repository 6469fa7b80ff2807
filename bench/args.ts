/** Command-line arguments of `npm run bench`, and where the deployed stacks are. */
import { readFileSync } from 'node:fs';
import { MAX_RESERVATIONS } from '../lambdas/domain/inventory/commands';
import { TOKEN_HELP, tokenProblem } from './identity';

export const USAGE_HINT =
  'usage: npm run bench -- [--quick] [--profile-overhead] [--workflow-orders <n>] [--out <dir> | --publish | --publish-only] [--outputs <cdk-outputs.json> | --decoupled-url <url> --coupled-url <url>] [--token <jwt>] [--region <region>]   (--help for details)';

export const HELP = `Benchmark of the decoupled and the coupled profile: command (ack) latency, read-your-writes
(visible) latency, a DynamoDB floor measured in the same run, concurrency, contention and history
sweeps. Writes latest.json, latest.md and two SVG charts to the output directory: by default
.bench-results/ (ignored by git, so a run never changes the checkout).

usage: npm run bench -- [options]
       npx tsx bench/run.ts [options]

Local mode (default): starts DynamoDB Local and the stacks, each in its own Node process, and
signs in as the dev user admin with each stack's own identity provider (tokens renewed as needed).
  --quick                   fewer samples, history lengths 10/100 (about 1.5 minutes)
  --out <dir>               output directory (default .bench-results)
  --publish                 write to bench/results (committed) instead, and rewrite the generated
                            sections of README.md and docs/ (<!-- bench:<name>:start --> ... end)
  --publish-only            run nothing: rewrite those sections from bench/results/latest.json
  --profile-overhead        only the warm-up and a 1-client sweep of 300 rounds (each profile
                            against its floor, the framework overhead); writes overhead.json,
                            not latest.*
  --workflow-orders <n>     orders per profile in the workflow sweep (order submitted -> seen
                            confirmed; default 25, --quick 5); 0 skips it

Remote mode: measures deployed stacks, signed in with a token you give.
  --outputs <file>          the file of \`cdk deploy --all --outputs-file <file>\` (with each
                            stack's WebSocketUrl, push latency is measured too)
  --decoupled-url <url>     the decoupled stack's API URL (with --coupled-url, instead of --outputs)
  --coupled-url <url>       the coupled stack's API URL
  --token <jwt>             an ID token of a user in the admin group (or the BENCH_TOKEN variable,
                            which keeps it out of the shell history); valid one hour, not renewed
  --region <region>         the floor's DynamoDB region (default: taken from the execute-api host)

  --bundles                 only each function's bundle: size (raw, gzip) and load time against an
                            empty handler (also --format esm|cjs, --root <checkout>, --rounds <n>)
  --index-cost              only the write units per event of the order view's items, its status
                            list holding rows against keys, on DynamoDB Local (--orders <n>, --lines <n>)
  --rebuild                 only rebuild throughput beside a raw parallel Scan of the same table
                            (also --orders <n>, default 2000; --segments <k>, default 4)
  --hot-aggregate           only writers on ONE order without expectedVersion, through the local
                            stacks: 16 writers against one writer alone, then 50 and 200 at once,
                            each against its target (also --quick, --rounds <n>, --out <dir>;
                            writes hot-aggregate.json)
  -h, --help                this text`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface StackTarget {
  readonly url: string;
  readonly eventTable?: string;
  /** The projections table (ProjectionsTableName): the floor's view items. */
  readonly projectionsTable?: string;
  /** The live updates' WebSocket (WebSocketUrl): the push sweep runs when both stacks have one. */
  readonly websocketUrl?: string;
}

export interface RemoteTarget {
  readonly mode: 'remote';
  readonly decoupled: StackTarget;
  readonly coupled: StackTarget;
  /** The stacks' region (the floor's DynamoDB client); from the URL or --region. */
  readonly region?: string;
  /** The ID token every request carries (--token or BENCH_TOKEN): an admin's. */
  readonly token: string;
}

export interface LocalTarget {
  readonly mode: 'local';
}

export type BenchArgs =
  | { readonly help: true }
  /** --publish-only: no run, the docs' generated sections from the committed results. */
  | { readonly help: false; readonly publishOnly: true }
  | {
      readonly help: false;
      readonly publishOnly?: undefined;
      /** --publish: the results go to PUBLISH_DIR and into the docs' generated sections. */
      readonly publish?: true;
      readonly quick: boolean;
      /** Only the warm-up and the 1-client sweep: profiles against their floors (overhead.json). */
      readonly overhead?: true;
      /** Measured orders per profile in the workflow sweep (absent: the settings'; 0 skips it). */
      readonly workflowOrders?: number;
      readonly out: string;
      readonly target: LocalTarget | RemoteTarget;
    };

/**
 * The most orders per profile the workflow sweep takes: every confirmed order keeps its
 * reservation of each of the run's SKUs, and a SKU holds at most MAX_RESERVATIONS open (half of
 * them leaves room for the warm-up's orders).
 */
export const MAX_WORKFLOW_ORDERS = Math.floor(MAX_RESERVATIONS / 2);

/** Where a run writes by default: ignored by git, so running the bench never dirties the tree. */
export const DEFAULT_OUT_DIR = '.bench-results';
/** Where --publish writes: the committed results the README and docs/benchmark.md show. */
export const PUBLISH_DIR = 'bench/results';

const EXECUTE_API_HOST =
  /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** The region of an `https://<id>.execute-api.<region>.amazonaws.com/` URL, else undefined. */
export const regionFromUrl = (url: string): string | undefined => {
  try {
    return EXECUTE_API_HOST.exec(new URL(url).hostname.toLowerCase())?.[1];
  } catch {
    return undefined;
  }
};

/** A valid http(s) URL, else a UsageError naming the flag. */
export const checkUrl = (value: string, what: string): string => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`${what} is not a valid URL: '${value}'`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UsageError(`${what} must be an http(s) URL, got '${value}'`);
  }
  return value;
};

const stackEntry = (
  outputs: Record<string, unknown>,
  matches: (name: string) => boolean,
  label: string,
  file: string,
): StackTarget => {
  const name = Object.keys(outputs).find(matches);
  const entry = name === undefined ? undefined : outputs[name];
  if (!entry || typeof entry !== 'object') {
    throw new UsageError(
      `${file} has no ${label} stack (expected a key like ReduxBackend-${label})`,
    );
  }
  const values = entry as Record<string, unknown>;
  const text = (key: string) => (typeof values[key] === 'string' ? values[key] : undefined);
  const url = text('ApiUrl');
  if (!url) throw new UsageError(`${file}: ${name} has no ApiUrl output`);
  const websocketUrl = text('WebSocketUrl');
  return {
    url: checkUrl(url, `${name}.ApiUrl`),
    eventTable: text('EventTableName'),
    projectionsTable: text('ProjectionsTableName'),
    ...(websocketUrl && { websocketUrl }),
  };
};

/** Both stacks of a `cdk deploy --outputs-file` file. */
export const readOutputsFile = (
  file: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): { decoupled: StackTarget; coupled: StackTarget } => {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `outputs file not found: ${file}`
        : `cannot read ${file}: ${(error as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${file} is not a CDK outputs file (an object of stacks)`);
  }
  const outputs = parsed as Record<string, unknown>;
  return {
    decoupled: stackEntry(outputs, (n) => /decoupled/i.test(n), 'Decoupled', file),
    coupled: stackEntry(
      outputs,
      (n) => /coupled/i.test(n) && !/decoupled/i.test(n),
      'Coupled',
      file,
    ),
  };
};

/** What parseArgs reads besides the arguments (tests give their own). */
export interface ArgsContext {
  readonly readFile?: (path: string) => string;
  /** Where BENCH_TOKEN is read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Now (ms since the epoch), to tell an expired token. Default Date.now(). */
  readonly now?: number;
}

/** Parses the arguments (without `node` and the script). Throws UsageError on bad input. */
export const parseArgs = (argv: readonly string[], context: ArgsContext = {}): BenchArgs => {
  const { readFile, env = process.env, now = Date.now() } = context;
  const flags = new Map<string, string | true>();
  const valued = new Set([
    '--out',
    '--outputs',
    '--decoupled-url',
    '--coupled-url',
    '--region',
    '--token',
    '--workflow-orders',
  ]);
  const switches = new Set([
    '--quick',
    '--profile-overhead',
    '--publish',
    '--publish-only',
    '--help',
    '-h',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--no-sign') {
      throw new UsageError(
        `--no-sign is gone: the APIs take tokens, not SigV4 signatures; give --token <jwt> (or BENCH_TOKEN), ${TOKEN_HELP}`,
      );
    }
    if (switches.has(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      flags.set(name === '-h' ? '--help' : name, true);
    } else if (valued.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        throw new UsageError(`${name} needs a value`);
      }
      if (flags.has(name)) throw new UsageError(`${name} given twice`);
      flags.set(name, value);
    } else {
      throw new UsageError(
        arg.startsWith('-') ? `unknown option ${name}` : `unexpected argument '${arg}'`,
      );
    }
  }
  if (flags.has('--help')) return { help: true };
  if (flags.has('--publish-only')) {
    if (flags.size > 1) throw new UsageError('--publish-only takes no other option');
    return { help: false, publishOnly: true };
  }
  if (flags.has('--publish') && flags.has('--out')) {
    throw new UsageError(`--publish writes to ${PUBLISH_DIR}: give either --publish or --out`);
  }
  if (flags.has('--publish') && flags.has('--profile-overhead')) {
    throw new UsageError('--publish needs a full run (not --profile-overhead)');
  }

  const value = (name: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const workflowOrders = value('--workflow-orders');
  if (workflowOrders !== undefined) {
    if (flags.has('--profile-overhead')) {
      throw new UsageError(
        '--workflow-orders does not apply to --profile-overhead (no workflow sweep)',
      );
    }
    if (!/^\d+$/.test(workflowOrders) || Number(workflowOrders) > MAX_WORKFLOW_ORDERS) {
      throw new UsageError(
        `--workflow-orders must be a whole number from 0 to ${MAX_WORKFLOW_ORDERS}, got '${workflowOrders}'`,
      );
    }
  }
  const outputs = value('--outputs');
  const decoupledUrl = value('--decoupled-url');
  const coupledUrl = value('--coupled-url');
  const region = value('--region');
  const tokenFlag = value('--token');
  const base = {
    help: false as const,
    quick: flags.has('--quick'),
    ...(flags.has('--profile-overhead') && { overhead: true as const }),
    ...(flags.has('--publish') && { publish: true as const }),
    ...(workflowOrders !== undefined && { workflowOrders: Number(workflowOrders) }),
    out: flags.has('--publish') ? PUBLISH_DIR : (value('--out') ?? DEFAULT_OUT_DIR),
  };

  if (outputs === undefined && decoupledUrl === undefined && coupledUrl === undefined) {
    if (region !== undefined || tokenFlag !== undefined) {
      throw new UsageError(
        '--region and --token only apply to remote mode (--outputs or --*-url); locally the bench signs in with the identity provider of each stack it starts',
      );
    }
    return { ...base, target: { mode: 'local' } };
  }
  if (outputs !== undefined && (decoupledUrl !== undefined || coupledUrl !== undefined)) {
    throw new UsageError('give either --outputs or --decoupled-url with --coupled-url, not both');
  }
  let stacks: { decoupled: StackTarget; coupled: StackTarget };
  if (outputs !== undefined) {
    stacks = readOutputsFile(outputs, readFile);
  } else {
    if (decoupledUrl === undefined || coupledUrl === undefined) {
      throw new UsageError('remote mode by URL needs both --decoupled-url and --coupled-url');
    }
    stacks = {
      decoupled: { url: checkUrl(decoupledUrl, '--decoupled-url') },
      coupled: { url: checkUrl(coupledUrl, '--coupled-url') },
    };
  }
  const awsRegion =
    region ?? regionFromUrl(stacks.decoupled.url) ?? regionFromUrl(stacks.coupled.url);
  const token = tokenFlag ?? (env.BENCH_TOKEN?.trim() || undefined);
  if (token === undefined) {
    throw new UsageError(
      `remote mode needs a token: --token <jwt> or BENCH_TOKEN=<jwt>, ${TOKEN_HELP}`,
    );
  }
  const problem = tokenProblem(token, now);
  if (problem !== undefined) {
    throw new UsageError(
      `${tokenFlag === undefined ? 'BENCH_TOKEN' : '--token'}: ${problem} (${TOKEN_HELP})`,
    );
  }
  return {
    ...base,
    target: {
      mode: 'remote',
      ...stacks,
      ...(awsRegion !== undefined && { region: awsRegion }),
      token,
    },
  };
};
