/**
 * The figures in the README and docs/benchmark.md are generated from bench/results/latest.json
 * (bench/publish.ts): the marker sections are replaced, never pasted, and what is committed is
 * what the committed results render to.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PUBLISHED_FILES,
  ROOT,
  SECTIONS,
  publishDocs,
  readPublishedResult,
  replaceSections,
  sectionsIn,
} from '../../bench/publish';

const START = (name: string) => `<!-- bench:${name}:start -->`;
const END = (name: string) => `<!-- bench:${name}:end -->`;

describe('replaceSections', () => {
  test('replaces what lies between the markers, and nothing else', () => {
    const text = `# T\n\n${START('a')}\nold\n${END('a')}\n\nkept\n\n${START('b')}\n${END('b')}\n`;
    expect(replaceSections(text, (name) => `new ${name}`)).toBe(
      `# T\n\n${START('a')}\n\nnew a\n\n${END('a')}\n\nkept\n\n${START('b')}\n\nnew b\n\n${END('b')}\n`,
    );
  });

  test('a start marker without its end is an error, not stale figures', () => {
    expect(() => replaceSections(`${START('a')}\nold\n`, () => 'x')).toThrow(/no matching end/);
  });
});

test.each(PUBLISHED_FILES.map((file) => [file]))(
  '%s has generated sections only of known names',
  (file) => {
    const names = sectionsIn(readFileSync(join(ROOT, file), 'utf8'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(Object.keys(SECTIONS)).toContain(name);
  },
);

test('the committed README and docs/benchmark.md show the committed latest.json', () => {
  const root = mkdtempSync(join(tmpdir(), 'publish-'));
  try {
    for (const file of [...PUBLISHED_FILES, '.prettierrc.json']) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), readFileSync(join(ROOT, file), 'utf8'));
    }
    // Nothing to rewrite: `npm run bench -- --publish-only` was run after the last change.
    expect(publishDocs(readPublishedResult(), root)).toEqual([]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
