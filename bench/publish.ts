/**
 * The figures the README and docs/benchmark.md show are generated, never pasted: each sits between
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, and this module rewrites what lies
 * between from a result (bench/report.ts renders it). `npm run bench -- --publish` runs it after a
 * run; `npm run bench -- --publish-only` (or `node --import tsx bench/publish.ts`) regenerates the
 * sections from the committed bench/results/latest.json without running anything.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { PUBLISH_DIR } from './args';
import { markdownReport, markdownSummary } from './report';
import type { BenchResult } from './results';

export const ROOT = resolve(__dirname, '..');

/** The files with generated sections, from the repository root. */
export const PUBLISHED_FILES = ['README.md', 'docs/benchmark.md'] as const;

/** What each section name renders; `chartDir` is the results folder as seen from the file. */
export const SECTIONS: Record<string, (result: BenchResult, chartDir: string) => string> = {
  /** The headline table (README). */
  summary: (result) => markdownSummary(result),
  /** Everything latest.md has, charts included (docs/benchmark.md). */
  results: (result, chartDir) => markdownReport(result, chartDir),
};

const MARKER = /<!-- bench:([a-z-]+):start -->\n[\s\S]*?<!-- bench:\1:end -->/g;

/** The names of the generated sections in a text, in order. */
export const sectionsIn = (text: string): string[] =>
  [...text.matchAll(MARKER)].map((match) => match[1]!);

/**
 * `text` with every generated section replaced by `render(name)`. An unknown name, or a start
 * marker without its end, is an error: a typo would otherwise leave stale figures in place.
 */
export const replaceSections = (text: string, render: (name: string) => string): string => {
  const starts = [...text.matchAll(/<!-- bench:([a-z-]+):start -->/g)].map((m) => m[1]!);
  const complete = sectionsIn(text);
  const open = starts.find((name, i) => complete[i] !== name);
  if (open !== undefined) throw new Error(`<!-- bench:${open}:start --> has no matching end`);
  return text.replace(
    MARKER,
    (_, name: string) =>
      `<!-- bench:${name}:start -->\n\n${render(name).trim()}\n\n<!-- bench:${name}:end -->`,
  );
};

/**
 * `text` as Prettier formats the file at `path` (its config and plugins), so `prettier --check`
 * passes on what was published. Through the CLI: Prettier's API loads parts of itself with
 * dynamic imports, which Jest's module system does not run.
 */
const formatted = (text: string, path: string): string =>
  execFileSync(
    process.execPath,
    [require.resolve('prettier/bin/prettier.cjs'), '--stdin-filepath', path],
    {
      input: text,
      encoding: 'utf8',
    },
  );

const renderer = (result: BenchResult, chartDir: string) => (name: string) => {
  const section = SECTIONS[name];
  if (!section) {
    throw new Error(
      `unknown generated section bench:${name} (known: ${Object.keys(SECTIONS).join(', ')})`,
    );
  }
  return section(result, chartDir);
};

/**
 * Rewrites the generated sections of PUBLISHED_FILES from `result` (charts in PUBLISH_DIR), as
 * Prettier formats them, and returns the files that changed.
 */
export const publishDocs = (result: BenchResult, root = ROOT): string[] => {
  const changed: string[] = [];
  for (const file of PUBLISHED_FILES) {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    const chartDir = relative(join(path, '..'), join(root, PUBLISH_DIR)).split('\\').join('/');
    const replaced = replaceSections(before, renderer(result, chartDir));
    const after = formatted(replaced, path);
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(file);
    }
  }
  return changed;
};

/** The committed results, as `--publish` last wrote them. */
export const readPublishedResult = (root = ROOT): BenchResult =>
  JSON.parse(readFileSync(join(root, PUBLISH_DIR, 'latest.json'), 'utf8')) as BenchResult;

/** `--publish-only`: the docs from the committed latest.json; prints what changed. */
export const publishOnly = (root = ROOT): number => {
  const changed = publishDocs(readPublishedResult(root), root);
  console.log(
    changed.length > 0
      ? `Rewrote the generated sections of ${changed.join(' and ')} from ${PUBLISH_DIR}/latest.json`
      : `The generated sections already show ${PUBLISH_DIR}/latest.json`,
  );
  return 0;
};

if (require.main === module) {
  try {
    process.exit(publishOnly());
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
