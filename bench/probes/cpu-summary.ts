/**
 * Sums a `node --cpu-prof` profile's self time by where the code lives (our handlers and core,
 * the local gateway, the SDK, zod, Powertools, Node's HTTP...) and by npm package, lists the
 * busiest functions overall (with their package), and those of one part when named. Used with
 * bench/probes/overhead.ts and with BENCH_CPU_PROF_DIR (each bench runtime process writes its
 * profile there; docs/benchmark.md, "Cost and CPU per command").
 * Run: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile | dir> [part to list]
 * (a directory: every profile in it, newest last, each with its pid).
 *
 * Two options, for comparing two processes that served the same commands (e.g. the two servers
 * of bench/probes/http-floor.ts):
 * - `--last <seconds>`: only the samples of a profile's last seconds (a profile covers the whole
 *   process, start-up included; the measured rounds are its end);
 * - `--minus <other.cpuprofile>`: what the first profile spends beyond the other, by part and by
 *   frame (self time, same window), the largest differences first.
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
  startTime: number;
  endTime: number;
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

/** Self time per node (ms), of the samples in the profile's last `lastSeconds` (all without). */
const selfTimes = (file: string, lastSeconds: number | undefined) => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const from = lastSeconds === undefined ? -Infinity : profile.endTime - lastSeconds * 1e6;
  const selfMs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return { byId, selfMs };
};

/** A frame's name: function, file (last two parts of its path) and line. */
const frameName = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;

/** Busy self time by part and by frame (`[package] name`), idle left out. */
const byPartAndFrame = (file: string, lastSeconds: number | undefined) => {
  const { byId, selfMs } = selfTimes(file, lastSeconds);
  const parts = new Map<string, number>();
  const frames = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    const part = partOf(node);
    if (part === '(idle)') continue;
    parts.set(part, (parts.get(part) ?? 0) + ms);
    const key = `[${packageOf(node)}] ${frameName(node)}`;
    frames.set(key, (frames.get(key) ?? 0) + ms);
  }
  return { parts, frames };
};

/** What `file` spends beyond `other`, by part and by frame. */
const difference = (file: string, other: string, lastSeconds: number | undefined) => {
  const a = byPartAndFrame(file, lastSeconds);
  const b = byPartAndFrame(other, lastSeconds);
  const sum = (map: Map<string, number>) => [...map.values()].reduce((n, ms) => n + ms, 0);
  const rows = (x: Map<string, number>, y: Map<string, number>) =>
    [...new Set([...x.keys(), ...y.keys()])]
      .map((key) => ({ key, a: x.get(key) ?? 0, b: y.get(key) ?? 0 }))
      .sort((p, q) => q.a - q.b - (p.a - p.b));
  const line = (r: { key: string; a: number; b: number }) =>
    `${(r.a - r.b).toFixed(0).padStart(7)} ${r.a.toFixed(0).padStart(7)} ${r.b.toFixed(0).padStart(7)}  ${r.key}`;
  console.log(
    `busy ms: ${sum(a.parts).toFixed(0)} against ${sum(b.parts).toFixed(0)}, difference ${(sum(a.parts) - sum(b.parts)).toFixed(0)}${lastSeconds === undefined ? '' : ` (the last ${lastSeconds} s of each)`}`,
  );
  console.log('\n   diff   first   other  part');
  for (const r of rows(a.parts, b.parts)) console.log(line(r));
  const frames = rows(a.frames, b.frames);
  console.log(
    '\n   diff   first   other  frame (the 40 largest differences, then the 10 smallest)',
  );
  for (const r of frames.slice(0, 40)) console.log(line(r));
  console.log('    ...');
  for (const r of frames.slice(-10)) console.log(line(r));
};

const summarise = (file: string, list: string | undefined, lastSeconds: number | undefined) => {
  const { byId, selfMs } = selfTimes(file, lastSeconds);
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
    const name = frameName(node);
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

/** The value after `--name` in the arguments (removed from them), or undefined. */
const option = (args: string[], name: string): string | undefined => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args.splice(at, 2)[1];
};
const args = process.argv.slice(2);
const last = option(args, '--last');
const minus = option(args, '--minus');
const lastSeconds = last === undefined ? undefined : Number(last);
const [target, list] = args;
if (!target || (lastSeconds !== undefined && !(lastSeconds > 0))) {
  console.error(
    'usage: node --import tsx bench/probes/cpu-summary.ts <file.cpuprofile | dir> [part] [--last <seconds>] [--minus <other.cpuprofile>]',
  );
  process.exit(2);
}
if (minus) {
  difference(target, minus, lastSeconds);
  process.exit(0);
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
  summarise(file, list, lastSeconds);
}
