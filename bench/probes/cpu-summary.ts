/**
 * Sums a `node --cpu-prof` profile's self time by where the code lives (our handlers and core,
 * the local gateway, the SDK, zod, Powertools, Node's HTTP...) and by npm package, lists the
 * busiest functions overall (with their package), and those of one part when named. Used with
 * bench/probes/overhead.ts and with BENCH_CPU_PROF_DIR (each bench runtime process writes its
 * profile there; docs/benchmark.md, "Cost and CPU per command").
 * Run: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile | dir> [part to list]
 * (a directory: every profile in it, newest last, each with its pid).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PARTS: readonly [string, RegExp][] = [
  ['handlers', /\/lambdas\/handlers\//],
  ['core', /\/lambdas\/core\//],
  ['domain', /\/lambdas\/domain\//],
  ['local gateway', /\/local\//],
  ['bench', /\/bench\//],
  ['powertools', /@aws-lambda-powertools/],
  ['zod', /\/zod\//],
  ['aws sdk', /@aws-sdk|@smithy|@aws-crypto|fast-xml|bowser/],
  ['undici (fetch)', /undici|node:internal\/deps\/undici/],
  ['node http/net', /node:(_http|http|net|internal\/(http|stream|streams|net|dns))/],
  ['node other', /^node:/],
];

const partOf = (node: ProfileNode): string => {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return '(program)';
  if (url === '') return 'native / builtins';
  return PARTS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';
};

/** The npm package a frame's code belongs to (`@aws-sdk/core`, `zod`), or its part. */
const packageOf = (node: ProfileNode): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(node.callFrame.url);
  return match?.[1] ?? partOf(node);
};

const summarise = (file: string, list: string | undefined) => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const parts = new Map<string, number>();
  const packages = new Map<string, number>();
  const frames = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    const part = partOf(node);
    parts.set(part, (parts.get(part) ?? 0) + ms);
    if (part === '(idle)') continue;
    busy += ms;
    const pkg = packageOf(node);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
    frames.set(`[${pkg}] ${name}`, (frames.get(`[${pkg}] ${name}`) ?? 0) + ms);
    if (part === list) functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const share = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`busy ${busy.toFixed(0)} ms (idle excluded)`);
  for (const [part, ms] of top(parts, parts.size)) {
    if (part === '(idle)') continue;
    console.log(`${part.padEnd(20)} ${ms.toFixed(0).padStart(7)} ms ${share(ms)}`);
  }
  console.log('\nby package (self time):');
  for (const [pkg, ms] of top(packages, 15)) {
    console.log(`${pkg.padEnd(36)} ${ms.toFixed(0).padStart(7)} ms ${share(ms)}`);
  }
  console.log('\nbusiest frames (self time):');
  for (const [name, ms] of top(frames, 20)) {
    console.log(`${ms.toFixed(1).padStart(8)} ms ${share(ms)}  ${name}`);
  }
  if (list) {
    console.log(`\n${list}, busiest functions:`);
    for (const [name, ms] of top(functions, 25)) {
      console.log(`${ms.toFixed(1).padStart(8)} ms  ${name}`);
    }
  }
};

const [target, list] = process.argv.slice(2);
if (!target) {
  console.error(
    'usage: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile | dir> [part]',
  );
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((name) => name.endsWith('.cpuprofile'))
      .map((name) => join(target, name))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
  : [target];
for (const file of files) {
  // Node names a profile CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile.
  const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(file.split('/').at(-1) ?? '')?.[1];
  if (files.length > 1) console.log(`\n=== ${file}${pid ? ` (pid ${pid})` : ''}`);
  summarise(file, list);
}
