/**
 * Every ```ts block of README.md and docs/ compiles against the repository, as a reader would
 * paste it at the repository root (imports like `./client`). The TypeScript compiler checks them
 * with the project's tsconfig, from memory: nothing is written. A block tagged ```ts continued
 * follows the block before it in the same file; one tagged ```ts fragment is skipped (keep those
 * few: a fragment cannot rot unnoticed only because nobody compiles it). One tagged
 * ```ts runnable is also run, by test/integration/doc-snippets.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { type DocBlock as Block, markdownFiles, ROOT, tsBlocksOf } from '../support/doc-blocks';

/**
 * A block as a module, as written: a top-level `await` fails here as it fails when the block is
 * run in this CommonJS project (wrap it in an async function, as the guides do).
 */
const asModule = (code: string): string => `${code}\nexport {};\n`;

/** The compiler's errors for each block, as `origin: message`. */
export const compileErrors = (blocks: readonly Block[]): string[] => {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = new Map(
    blocks.map((block, i) => [join(ROOT, `__doc_block_${i}.ts`), asModule(block.code)]),
  );
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists(name);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = files.get(name);
    return text === undefined
      ? getSourceFile(name, language, ...rest)
      : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true }, host);
  const origins = new Map([...files.keys()].map((name, i) => [name, blocks[i]!.origin]));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && origins.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const text = d.file!.text.split('\n')[line]?.trim();
      return `${origins.get(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')} (in: ${text})`;
    });
};

const blocks = markdownFiles().flatMap((file) =>
  tsBlocksOf(file, readFileSync(join(ROOT, file), 'utf8')),
);

test('the docs have ts blocks to check', () => {
  expect(blocks.length).toBeGreaterThan(0);
});

/** Compiled with the docs' blocks, in the same program: the check must report it, and only it. */
const BROKEN: Block = {
  origin: 'sample.md:3',
  code: "import { selectView } from './client';\nselectView(1);",
};

test('every ts block of README.md and docs/ compiles against the repository', () => {
  const errors = compileErrors([...blocks, BROKEN]);
  expect(errors.filter((error) => !error.startsWith(`${BROKEN.origin}:`))).toEqual([]);
  // The check itself: a block that does not compile is reported, with where it is.
  expect(errors).toEqual([expect.stringMatching(/^sample\.md:3: Expected 2 arguments/)]);
}, 120_000);

test('fragments are skipped, continued blocks joined', () => {
  const markdown = [
    '```ts',
    'const a = 1;',
    '```',
    '```ts continued',
    'const b = a;',
    '```',
    '```ts fragment',
    'x.',
    '```',
    '```bash',
    '```ts',
    '```',
  ].join('\n');
  expect(tsBlocksOf('f.md', markdown)).toEqual([
    { origin: 'f.md:1', code: 'const a = 1;\nconst b = a;' },
  ]);
});

test('a runnable block takes the text block right after it as its output, and only that one', () => {
  const markdown = [
    '```ts runnable',
    "console.log('hi');",
    '```',
    'It prints:',
    '```text',
    'hi',
    '```',
    '```ts runnable',
    'void 0;',
    '```',
    '```bash',
    '```',
    '```text',
    'not its output',
    '```',
  ].join('\n');
  expect(tsBlocksOf('f.md', markdown)).toEqual([
    { origin: 'f.md:1', code: "console.log('hi');", runnable: true, output: 'hi' },
    { origin: 'f.md:8', code: 'void 0;', runnable: true },
  ]);
});
