/**
 * `npm run bench -- --bundles`: each function's bundle, built with the settings the CDK uses
 * (lib/constructs/bundle-options.ts), its size (raw, gzip) and its load time: module load plus
 * handler construction (the entry builds its handler at import), in a fresh Node process, against
 * an empty handler bundled the same way, in the same run, several rounds, median.
 * `--format cjs` builds CommonJS instead (the settings before issue 12) and `--root <dir>` builds
 * another checkout, so before and after can be measured on the same machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE_GZIP_BUDGET, BUNDLE_OPTIONS } from '../lib/constructs/bundle-options';
import { rotate } from './stats';

const ENTRIES = ['command', 'query', 'projector', 'coupled', 'connections', 'notifier'] as const;

/** What the entries read at cold start (never called: no request is made). */
const ENV = {
  EVENT_TABLE_NAME: 'events',
  READ_MODEL_TABLE_NAME: 'orders',
  SUBSCRIPTIONS_TABLE_NAME: 'subscriptions',
  WEBSOCKET_MANAGEMENT_ENDPOINT: 'https://example.execute-api.eu-west-1.amazonaws.com/live',
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

export interface BundleFigure {
  readonly name: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  /** Median ms of `await import()` (module load + handler construction). */
  readonly loadMs: number;
  /** loadMs minus the empty handler's, same run. */
  readonly overEmptyMs: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One fresh `node` process: the time its `import()` of `file` takes, in ms. */
const loadOnce = (file: string): number => {
  const script =
    'const t=performance.now();' +
    `await import(${JSON.stringify(file)});` +
    'process.stdout.write(String(performance.now()-t));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...ENV },
    encoding: 'utf8',
  });
  return Number(out);
};

export const measureBundles = async (options: {
  root: string;
  format: 'esm' | 'cjs';
  rounds: number;
}): Promise<BundleFigure[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  try {
    const ext = options.format === 'esm' ? 'mjs' : 'cjs';
    const empty = join(dir, 'empty.ts');
    writeFileSync(empty, 'export const handler = async () => ({ statusCode: 200 });\n');
    const sources = [
      ['empty', empty],
      ...ENTRIES.map((e) => [e, join(options.root, 'lambdas', 'handlers', 'entry', `${e}.ts`)]),
    ] as const;
    const files = new Map<string, string>();
    for (const [name, entry] of sources) {
      const outfile = join(dir, `${name}.${ext}`);
      await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: 'node',
        logLevel: 'error',
        minify: BUNDLE_OPTIONS.minify,
        target: BUNDLE_OPTIONS.target,
        ...(options.format === 'esm'
          ? {
              format: 'esm',
              mainFields: [...BUNDLE_OPTIONS.mainFields],
              alias: BUNDLE_OPTIONS.alias,
            }
          : { format: 'cjs' }),
      });
      files.set(name, outfile);
    }
    const samples = new Map<string, number[]>([...files.keys()].map((k) => [k, []]));
    const names = [...files.keys()];
    for (let round = 0; round < options.rounds; round++) {
      // Rotating order: machine noise hits every bundle alike.
      for (const name of rotate(names, round)) samples.get(name)!.push(loadOnce(files.get(name)!));
    }
    const emptyMs = median(samples.get('empty')!);
    return names.map((name) => {
      const code = readFileSync(files.get(name)!);
      const loadMs = median(samples.get(name)!);
      return {
        name,
        rawBytes: code.length,
        gzipBytes: gzipSync(code).length,
        loadMs,
        overEmptyMs: loadMs - emptyMs,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export const bundleTable = (figures: readonly BundleFigure[]): string => {
  const kb = (b: number) => (b / 1024).toFixed(0);
  const rows = figures.map(
    (f) =>
      `| ${f.name} | ${kb(f.rawBytes)} | ${kb(f.gzipBytes)}${f.name !== 'empty' && f.gzipBytes > BUNDLE_GZIP_BUDGET ? ' (over budget)' : ''} | ${f.loadMs.toFixed(1)} | ${f.name === 'empty' ? '-' : `+${f.overEmptyMs.toFixed(1)}`} |`,
  );
  return [
    '| Function | raw KB | gzip KB | load ms (median) | vs empty handler |',
    '| -------- | -----: | ------: | ---------------: | ---------------: |',
    ...rows,
  ].join('\n');
};

/** `npm run bench -- --bundles [--format esm|cjs] [--root <dir>] [--rounds N]`. */
export const runBundlesCli = async (argv: readonly string[]): Promise<number> => {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const format = value('--format') ?? BUNDLE_OPTIONS.format;
  if (format !== 'esm' && format !== 'cjs') throw new Error('--format is esm or cjs');
  const rounds = Number(value('--rounds') ?? 9);
  const root = resolve(value('--root') ?? join(__dirname, '..'));
  const figures = await measureBundles({ root, format, rounds });
  console.log(`Bundles of ${root} (${format}, ${rounds} rounds, node ${process.version})\n`);
  console.log(bundleTable(figures));
  return figures.some((f) => f.name !== 'empty' && f.gzipBytes > BUNDLE_GZIP_BUDGET) ? 1 : 0;
};
