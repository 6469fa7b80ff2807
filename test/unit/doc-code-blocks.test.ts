/**
 * Every ```ts block of README.md and docs/ compiles against the repository, as a reader would
 * paste it at the repository root (imports like `./client`). The TypeScript compiler checks them
 * with the project's tsconfig, from memory: nothing is written. A block tagged ```ts continued
 * follows the block before it in the same file; one tagged ```ts fragment is skipped (keep those
 * few: a fragment cannot rot unnoticed only because nobody compiles it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '../..');

interface Block {
  /** `docs/guide/client.md:8`: where the block starts. */
  readonly origin: string;
  readonly code: string;
}

/** The ```ts blocks of a Markdown text, continued ones joined to the block before them. */
export const tsBlocksOf = (file: string, markdown: string): Block[] => {
  const blocks: { origin: string; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(ts|typescript)(?:\s+(\w+))?\s*$/.exec(lines[i]!);
    if (!fence) {
      if (lines[i]!.startsWith('```')) {
        // Another language's block: skip to its end, so its body is never read as a fence.
        const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
        i = end < 0 ? lines.length : end;
      }
      continue;
    }
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    const code = lines.slice(i + 1, end < 0 ? lines.length : end).join('\n');
    const tag = fence[2];
    if (tag === 'continued' && blocks.length > 0) {
      blocks[blocks.length - 1]!.code += `\n${code}`;
    } else if (tag !== 'fragment') {
      blocks.push({ origin: `${file}:${i + 1}`, code });
    }
    i = end < 0 ? lines.length : end;
  }
  return blocks;
};

/**
 * A block as a module: its imports at the top, the rest in an async function, so a top-level
 * `await` (fine in a reader's ES module) type-checks under the project's CommonJS settings.
 */
const asModule = (code: string): string => {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, true);
  const imports = source.statements.filter(ts.isImportDeclaration);
  const body = source.statements.filter((statement) => !ts.isImportDeclaration(statement));
  return [
    ...imports.map((statement) => statement.getFullText(source)),
    '\nexport async function __block(): Promise<void> {',
    ...body.map((statement) => statement.getFullText(source)),
    '\n}\n',
  ].join('');
};

const markdownFiles = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

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

const blocks = markdownFiles.flatMap((file) =>
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
