/**
 * The code blocks of the Markdown docs, for the tests that compile them
 * (test/unit/doc-code-blocks.test.ts) and run them (test/integration/doc-snippets.test.ts).
 * A ```ts block's info string may carry one tag: `continued` joins it to the block before it,
 * `fragment` leaves it out, `runnable` marks a standalone program whose output is the ```text
 * block that follows it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');

export interface DocBlock {
  /** `docs/guide/client.md:8`: where the block starts. */
  readonly origin: string;
  readonly code: string;
  /** A standalone program (```ts runnable), to run as a reader would. */
  readonly runnable?: true;
  /** A runnable block's output as the doc shows it: the next block, when it is ```text. */
  readonly output?: string;
}

/** README.md and every Markdown file under docs/, as paths from the repository root. */
export const markdownFiles = (): string[] => [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** The ```ts blocks of a Markdown text, continued ones joined to the block before them. */
export const tsBlocksOf = (file: string, markdown: string): DocBlock[] => {
  const blocks: { origin: string; code: string; runnable?: true; output?: string }[] = [];
  const lines = markdown.split('\n');
  /** The index of the fence that closes the block opened at `start`. */
  const endOf = (start: number) => {
    const end = lines.findIndex((line, j) => j > start && line.startsWith('```'));
    return end < 0 ? lines.length : end;
  };
  let last: (typeof blocks)[number] | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const end = endOf(i);
    const body = lines.slice(i + 1, end).join('\n');
    const fence = /^```(ts|typescript|text)(?:\s+(\w+))?\s*$/.exec(lines[i]!);
    const [, language, tag] = fence ?? [];
    const ts = language === 'ts' || language === 'typescript';
    if (language === 'text' && last) {
      last.output = body;
    } else if (ts) {
      if (tag === 'continued' && blocks.length > 0) {
        blocks[blocks.length - 1]!.code += `\n${body}`;
      } else if (tag !== 'fragment') {
        blocks.push({
          origin: `${file}:${i + 1}`,
          code: body,
          ...(tag === 'runnable' && { runnable: true as const }),
        });
      }
    }
    // Only the block right after a runnable one can be its output.
    last = ts && tag === 'runnable' ? blocks[blocks.length - 1] : undefined;
    i = end;
  }
  return blocks;
};
