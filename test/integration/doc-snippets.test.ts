/**
 * Every ```ts runnable block of README.md and docs/ runs as a reader runs it: saved as a .ts file
 * at the repository root (so `./client` resolves) and started with `node --import tsx`, against
 * a local runtime (both stacks). The snippets read API_URL and WS_URL, defaulting to `npm
 * start`'s ports, and sign in either at IDP_URL (the runtime's identity provider, `POST /token`)
 * or with TOKEN, an ID token as `TOKEN=$(npm run -s token -- --user ...)` gives one: here the
 * admin's, refused nothing. It must exit 0 and print exactly the ```text block the doc shows
 * after it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DocBlock, markdownFiles, ROOT, tsBlocksOf } from '../support/doc-blocks';
import { useLocalRuntime } from '../support/runtime';
import { runProcess } from '../support/processes';

const runnable = markdownFiles()
  .flatMap((file) => tsBlocksOf(file, readFileSync(join(ROOT, file), 'utf8')))
  .filter((block) => block.runnable);

const local = useLocalRuntime(`snippets${process.pid}`, { poller: { pollIntervalMs: 100 } });

/** Runs a block as a program; a run that outlives `timeoutMs` is killed (and fails). */
const run = async (block: DocBlock, env: Record<string, string>, timeoutMs = 30_000) => {
  // A dotted name git ignores (.gitignore), removed afterwards.
  const name = `${process.pid}-${env.API_URL!.replace(/\W/g, '')}-${block.origin.replace(/\W/g, '-')}`;
  const file = join(ROOT, `.doc-snippet-${name}.ts`);
  writeFileSync(file, block.code);
  const started = runProcess(process.execPath, ['--import', 'tsx', file], {
    ...process.env,
    ...env,
  });
  const timer = setTimeout(() => started.child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await started.exited;
    return { code, stdout: started.stdout, stderr: started.stderr };
  } finally {
    clearTimeout(timer);
    rmSync(file, { force: true });
  }
};

test('the client guides mark their programs runnable, each with the output it prints', () => {
  const files = new Set(runnable.map((block) => block.origin.split(':')[0]));
  for (const guide of ['docs/guide/client.md', 'docs/guide/live-updates.md']) {
    expect([...files]).toContain(guide);
  }
  for (const block of runnable) expect(block.output?.trim()).toBeTruthy();
});

const STACKS = ['decoupled', 'coupled'] as const;

test.each(runnable.map((block) => [block.origin, block] as const))(
  '%s runs as pasted on both stacks and prints what the doc shows',
  async (_, block) => {
    // Both stacks at once: each run mostly waits for its process to start.
    const runs = await Promise.all(
      STACKS.map((stack) =>
        run(block, {
          API_URL: (stack === 'decoupled' ? local.current.decoupledUrl : local.current.coupledUrl)!,
          WS_URL: local.current.websocketUrls[stack]!,
          IDP_URL: local.current.identity.url,
          TOKEN: local.current.identity.tokenFor('admin'),
        }),
      ),
    );
    for (const [i, { code, stdout, stderr }] of runs.entries()) {
      expect({ stack: STACKS[i], code, stderr }).toEqual({ stack: STACKS[i], code: 0, stderr: '' });
      expect(stdout.trim()).toBe(block.output!.trim());
    }
  },
);
