/**
 * Cross-references resolve. A reference names a file and, for a section, its heading in quotes:
 * `README, "Limits a demanding user should know"`, `docs/local-runtime.md, "What differs from
 * AWS"` (the heading may be shortened to its start: `"Snapshots and resent commands"`); a
 * decision is named by its file, `docs/decisions/snapshots.md`. Checked in README.md and docs/
 * and in every source file (comments, log lines and the error messages API clients get): the
 * file exists and has a heading the quote starts; every `docs/....md` path named exists; a
 * relative Markdown link names a file that exists, and its `#anchor` a heading of that file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');
const SOURCE_DIRS = ['lambdas', 'lib', 'local', 'client', 'bench', 'scripts', 'test', 'web', 'bin'];
const SOURCE_FILE = /\.(ts|tsx|js|mjs|cjs|sh)$/;
const SKIPPED = /(^|\/)(node_modules|cdk\.out|results)(\/|$)/;

const walk = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((file) => `${dir}/${file}`)
    .filter((file) => !SKIPPED.test(file));

const markdownFiles = ['README.md', ...walk('docs').filter((file) => file.endsWith('.md'))];
// This file is left out: its own examples of broken references are on purpose.
const sourceFiles = SOURCE_DIRS.flatMap(walk).filter(
  (file) => SOURCE_FILE.test(file) && file !== 'test/unit/doc-references.test.ts',
);
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The headings of a Markdown text, outside fenced code blocks. */
export const headingsOf = (markdown: string): string[] => {
  const headings: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) headings.push(heading[1]!);
  }
  return headings;
};

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const plain = (text: string) =>
  text
    .replace(/`/g, '')
    .replace(/\s+/g, ' ')
    .replace(/(\.\.\.|…)$/, '')
    .trim()
    .toLowerCase();

/** Whether `quote` is a heading of `markdown`, or the start of one (up to a word boundary). */
export const hasHeading = (markdown: string, quote: string): boolean => {
  const wanted = plain(quote);
  return headingsOf(markdown).some((heading) => {
    const text = plain(heading);
    return (
      text === wanted || (text.startsWith(wanted) && /^[\s:,;(—–-]/.test(text.slice(wanted.length)))
    );
  });
};

/** A source file's text with comment continuation lines joined (` * `, `// `, `# `). */
const joinComments = (text: string) => text.replace(/\n[ \t]*(?:\*(?!\/)|\/\/|#)[ \t]?/g, ' ');

/** `README, "Heading"`, `docs/x.md, "Heading"` (also without the comma, or `README's "..."`). */
const SECTION_REFERENCE = /\b(README(?:\.md)?|docs\/[\w./-]+?\.md)(?:'s)?,?\s+\(?"([^"]+)"/g;
/** A `docs/....md` path named anywhere, and the upper-case root files (`README.md`). */
const FILE_REFERENCE = /(?<![\w/.-])(docs\/[\w./-]*[\w-]\.md|[A-Z][A-Z_-]+\.md)\b/g;

interface Reference {
  readonly file: string;
  readonly quote?: string;
}

/** Every section and file reference in `text`. */
export const referencesIn = (text: string): Reference[] => [
  ...[...text.matchAll(SECTION_REFERENCE)].map((m) => ({
    file: m[1]!.startsWith('README') ? 'README.md' : m[1]!,
    quote: m[2]!,
  })),
  ...[...text.matchAll(FILE_REFERENCE)].map((m) => ({ file: m[1]! })),
];

/** What is wrong with a reference, or undefined when it resolves. */
export const problemOf = (reference: Reference): string | undefined => {
  if (!existsSync(join(ROOT, reference.file))) return `${reference.file} does not exist`;
  if (reference.quote === undefined) return undefined;
  return hasHeading(read(reference.file), reference.quote)
    ? undefined
    : `${reference.file} has no heading "${reference.quote.replace(/\s+/g, ' ')}"`;
};

const problemsIn = (text: string) =>
  referencesIn(text)
    .map(problemOf)
    .filter((problem): problem is string => problem !== undefined);

describe('references by file and heading resolve', () => {
  test.each(markdownFiles.map((file) => [file]))('%s', (file) => {
    expect(problemsIn(read(file))).toEqual([]);
  });

  test('in every source file: comments, log lines and error messages', () => {
    const problems = sourceFiles.flatMap((file) =>
      problemsIn(joinComments(read(file))).map((problem) => `${file}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });
});

/** Relative Markdown links (`](docs/guide/x.md)`, `](../reference/y.md#z)`), resolved. */
const linkProblems = (file: string): string[] => {
  const text = read(file);
  const base = dirname(join(ROOT, file));
  return [...text.matchAll(/\]\(((?!https?:|mailto:)[^)\s#]*)(?:#([^)\s]*))?\)/g)].flatMap(
    ([link, target, anchor]) => {
      const path = target ? join(base, target) : join(ROOT, file);
      if (!existsSync(path)) return [`${link}: ${relative(ROOT, path)} does not exist`];
      if (anchor === undefined || !path.endsWith('.md')) return [];
      const anchors = headingsOf(readFileSync(path, 'utf8')).map(anchorOf);
      return anchors.includes(anchor) ? [] : [`${link}: no heading with anchor #${anchor}`];
    },
  );
};

test.each(markdownFiles.map((file) => [file]))('%s: relative links and anchors resolve', (file) => {
  expect(linkProblems(file)).toEqual([]);
});

describe('the checker itself', () => {
  test('finds section references in their forms, and headings by their start', () => {
    const text = 'see README, "Limits a demanding" and docs/how-it-works.md "Corrupt and foreign';
    expect(referencesIn(`${text} events"`)).toEqual([
      { file: 'README.md', quote: 'Limits a demanding' },
      { file: 'docs/how-it-works.md', quote: 'Corrupt and foreign events' },
      { file: 'docs/how-it-works.md' },
    ]);
    expect(hasHeading('# A\n## `--data-dir` and hard kills\n', '--data-dir and hard')).toBe(true);
    expect(hasHeading('## Redrive: repairing stale rows\n', 'Redrive')).toBe(true);
    expect(hasHeading('## Redriven\n', 'Redrive')).toBe(false);
    expect(hasHeading('```\n# not a heading\n```\n', 'not a heading')).toBe(false);
  });

  test('GitHub anchors', () => {
    expect(anchorOf('Live updates (WebSocket)')).toBe('live-updates-websocket');
    expect(anchorOf('`--data-dir` and hard kills')).toBe('--data-dir-and-hard-kills');
  });

  test('a missing heading or file is reported', () => {
    expect(problemsIn('(README, "Command deadline")')).toEqual([
      'README.md has no heading "Command deadline"',
    ]);
    expect(problemsIn('see docs/decisions.md and ARCHITECTURE.md')).toEqual([
      'docs/decisions.md does not exist',
      'ARCHITECTURE.md does not exist',
    ]);
  });
});
