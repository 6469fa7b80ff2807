/**
 * Where the coupled stack's CPU per command goes (issue 23 item 6; docs/benchmark.md, "Cost and
 * CPU per command"). One DynamoDB Local and the coupled stack's runtime process, as `npm run
 * bench` starts them, with a V8 CPU profile of that process: warm-up commands, then the process
 * idle for a while, then N sequential commands of the bench's mix (answered, not read back) and
 * the projectors caught up. The profile's samples are cut into the idle window and the busy one;
 * each part's busy time less its idle rate over the busy window, per command, is its net cost.
 *
 * A sample belongs to the nearest frame of our code on its stack: the local gateway (with the
 * token check), the coupled function's command path, the projector, the workflows function, the
 * bus enrichment, push (the writer's subscriber read and post, the notifier), the emulated event
 * source mapping (the stream poller). Code reached only through an `await` has no such frame
 * (V8 keeps no async stack): the SDK's response handling and Node's HTTP land in their own
 * buckets. The profiler itself slows the process (figures run ~1.3-1.5x the bench's).
 *
 * Run: node --import tsx bench/probes/coupled-cpu-parts.ts [commands, default 1500] [idle s, default 15]
 *   [runner: coupled (default) | coupled-function, the function alone in a process with no stream
 *   function, as the cost block's row of that name]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrderSession } from '../orders';
import { Cleanup, startLocalTarget } from '../targets';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The owner of a frame of our code, first match wins (its path in the checkout). */
const OWNERS: readonly [string, RegExp][] = [
  ['stream poller (emulated event source mapping)', /\/local\/emulators\/stream-(poller|retry)/],
  [
    'gateway (emulated, with the token check)',
    /\/local\/emulators\/(gateway|cors|lambda-context)|\/core\/identity\/(jwt|token)/,
  ],
  ['push emulator (WebSocket API)', /\/local\/emulators\/(push|websocket)/],
  ['bus emulator', /\/local\/emulators\/event-bus/],
  ['projector', /\/lambdas\/(handlers\/projector|core\/projections\/)/],
  ['workflows', /\/lambdas\/(handlers\/workflows|core\/workflows\/)/],
  ['bus enrichment', /\/lambdas\/(handlers\/bus-|core\/events\/bus-)/],
  ['push (writer and notifier)', /\/lambdas\/(handlers\/(notifier|push-)|core\/push\/)/],
  ['command function', /\/lambdas\/(handlers|core|domain)\//],
];

const ownerOf = (node: ProfileNode, parentOf: Map<number, ProfileNode>): string => {
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)') return '(idle)';
  for (let at: ProfileNode | undefined = node; at; at = parentOf.get(at.id)) {
    if (at.callFrame.url.includes('node_modules')) continue;
    const owner = OWNERS.find(([, pattern]) => pattern.test(at!.callFrame.url));
    if (owner) return owner[0];
  }
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (/^write(v|Buffer|Utf8String|Latin1String)$/.test(functionName)) return 'socket writes';
  if (/@aws-sdk|@smithy/.test(url)) return 'AWS SDK, after an await';
  if (url.startsWith('node:') || url === '') return 'Node (HTTP, streams) and V8, after an await';
  return 'other';
};

/** Per owner, CPU ms in [from, to) (profile clock, µs). */
const busyByOwner = (profile: Profile, from: number, to: number) => {
  const parentOf = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node);
  const owners = new Map<number, string>();
  const totals = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at >= to) return;
    let owner = owners.get(id);
    if (owner === undefined) {
      owner = ownerOf(byId.get(id)!, parentOf);
      owners.set(id, owner);
    }
    totals.set(owner, (totals.get(owner) ?? 0) + delta / 1000);
  });
  return totals;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const main = async () => {
  const commands = Number(process.argv[2] ?? 1500);
  const idleSeconds = Number(process.argv[3] ?? 15);
  const runnerName = process.argv[4] ?? 'coupled';
  if (runnerName !== 'coupled' && runnerName !== 'coupled-function') {
    throw new Error(`the runner is coupled or coupled-function, not ${runnerName}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coupled-cpu-'));
  process.env.BENCH_CPU_PROF_DIR = dir;
  const cleanup = new Cleanup();
  const marks: { idle?: number; busy?: number; done?: number; stopped?: number } = {};
  let pid: string | undefined;
  try {
    const target = await startLocalTarget(cleanup, { fastPoller: false });
    const coupled = [...target.profiles, ...target.costOnly].find((r) => r.name === runnerName)!;
    pid = /\d+/.exec(target.usage[runnerName]!.process)?.[0];
    const run = async (prefix: string, n: number) => {
      const session = new OrderSession(`${prefix}${Date.now().toString(36)}`, 10);
      for (let i = 0; i < n; i++) {
        const { aggregateId, command } = session.next();
        const outcome = await coupled.execute(aggregateId, command, { visible: false });
        if (!outcome.ok) throw new Error(`a command failed: ${JSON.stringify(outcome)}`);
      }
    };
    await run('warm', 300);
    await target.settle();
    marks.idle = performance.now();
    await sleep(idleSeconds * 1000);
    marks.busy = performance.now();
    await run('cpu', commands);
    await target.settle();
    marks.done = performance.now();
  } finally {
    await cleanup.run();
    marks.stopped = performance.now();
  }
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.`) && name.includes('.0.'));
  if (!file) throw new Error(`no CPU profile of the coupled process ${pid} in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  rmSync(dir, { recursive: true, force: true });
  // The profile ends when the process stops: place the marks on its clock from there, leaving
  // a margin at each edge for that difference.
  const at = (mark: number) => profile.endTime - (marks.stopped! - mark) * 1000;
  const margin = 700_000;
  const idle = [at(marks.idle!) + margin, at(marks.busy!) - margin] as const;
  const busy = [at(marks.busy!) + margin, at(marks.done!) - margin] as const;
  const idleMs = (idle[1] - idle[0]) / 1000;
  const busyMs = (busy[1] - busy[0]) / 1000;
  const inWindow = commands * (busyMs / (marks.done! - marks.busy!));
  const idleTotals = busyByOwner(profile, ...idle);
  const busyTotals = busyByOwner(profile, ...busy);
  const rows = [...new Set([...idleTotals.keys(), ...busyTotals.keys()])]
    .filter((owner) => owner !== '(idle)')
    .map((owner) => {
      const gross = (busyTotals.get(owner) ?? 0) / inWindow;
      const idleShare = ((idleTotals.get(owner) ?? 0) * (busyMs / idleMs)) / inWindow;
      return { owner, net: gross - idleShare, gross, idleShare };
    })
    .sort((a, b) => b.net - a.net);
  const total = rows.reduce((sum, r) => sum + r.net, 0);
  console.log(
    `${runnerName} runtime process, ${commands} sequential commands (${(busyMs / 1000).toFixed(1)} s profiled) after ${(idleMs / 1000).toFixed(1)} s idle; CPU ms per command, under the profiler`,
  );
  console.log(
    `${'part'.padEnd(48)} ${'net'.padStart(7)} ${'share'.padStart(6)} ${'gross'.padStart(7)} ${'idle'.padStart(7)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.owner.padEnd(48)} ${r.net.toFixed(3).padStart(7)} ${`${((100 * r.net) / total).toFixed(0)}%`.padStart(6)} ${r.gross.toFixed(3).padStart(7)} ${r.idleShare.toFixed(3).padStart(7)}`,
    );
  }
  console.log(`${'total'.padEnd(48)} ${total.toFixed(3).padStart(7)}`);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
