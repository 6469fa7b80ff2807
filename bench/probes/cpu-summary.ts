/**
 * Sums a `node --cpu-prof` profile's self time by where the code lives (our handlers and core,
 * the local gateway, the SDK, zod, Powertools, Node's HTTP...), and lists the busiest functions
 * of a part. Used with bench/probes/overhead.ts (docs/benchmark.md, "Framework overhead").
 * Run: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile> [part to list]
 */
import { readFileSync } from 'node:fs';

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

const [file, list] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile> [part]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
});
const parts = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
for (const [id, ms] of selfMs) {
  const node = byId.get(id)!;
  const part = partOf(node);
  parts.set(part, (parts.get(part) ?? 0) + ms);
  if (part !== '(idle)') busy += ms;
  if (part === list) {
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
}
console.log(`busy ${busy.toFixed(0)} ms (idle excluded)`);
for (const [part, ms] of [...parts].sort((a, b) => b[1] - a[1])) {
  if (part === '(idle)') continue;
  console.log(
    `${part.padEnd(20)} ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)}%`,
  );
}
if (list) {
  console.log(`\n${list}, busiest functions:`);
  for (const [name, ms] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${ms.toFixed(1).padStart(8)} ms  ${name}`);
  }
}
