/**
 * `npm run bench`: the decoupled and the coupled profile side by side, against a floor of
 * plain DynamoDB calls measured in the same run. Local mode starts DynamoDB Local and the
 * stacks (each in its own process) and signs in to them as the dev user admin; remote mode
 * measures deployed stacks with the token it is given. See docs/benchmark.md.
 */
import { OBSERVER_METHOD } from './observer';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalRuntimeError } from '../local/emulators/dynamodb-local';
import { type BenchArgs, HELP, parseArgs, USAGE_HINT, UsageError } from './args';
import { runBundlesCli } from './bundles';
import { publishDocs, publishOnly } from './publish';
import { runHotAggregateCli } from './hot-aggregate';
import { runRebuildBench } from './rebuild';
import { distributionSpec, historySpec, renderSvg } from './charts';
import { CLIENT_LATENCY_METHOD, runClientLatency } from './client-latency';
import { machineInfo } from './machine';
import { PUSH_METHOD, runPushLatency } from './push-latency';
import { runWorkflowLatency, WORKFLOW_METHOD } from './workflow-latency';
import { measureIndexCost, runIndexCostCli } from './probes/index-cost';
import {
  measureTokenVerification,
  TOKEN_VERIFICATION_METHOD,
  type TokenVerificationFigures,
} from './probes/token-cost';
import { createProgress } from './progress';
import {
  costCommands,
  type CostResult,
  costRounds,
  cpuInTurnsBlocks,
  cpuInTurnsCommands,
  cpuInTurnsWarmUp,
  idleWindowMs,
  measureCost,
  measureCpuInTurns,
} from './cost';
import { costTable, headlineTable, markdownReport, plainTable, terminalReport } from './report';
import { type BenchResult, contentionFiguresOf, figuresByRunner, rawOf, ratiosOf } from './results';
import { type Runner } from './runners';
import { type BenchSettings, DEFAULT_SETTINGS, QUICK_SETTINGS } from './settings';
import {
  type ContentionMode,
  runConcurrencyLevel,
  runContention,
  runHistoryLength,
  type SweepContext,
  warmUp,
} from './sweeps';
import {
  Cleanup,
  connectRemoteTarget,
  runnerInfo,
  runnersOf,
  startLocalTarget,
  type Target,
} from './targets';

export const METHOD = {
  ack: 'POST /commands sent -> its answer fully received (performance.now(), keep-alive HTTP; the request carries the bench’s ID token, looked up (and renewed when under 5 minutes from expiry) before the clock starts, and verified by the gateway within it).',
  visible:
    'POST /commands sent -> the read model shows that version. Coupled: the answer itself (it carries the fresh row). Decoupled: after the 202, GET /orders/{id}?minVersion=<version> (the query waits server-side, polling the row with consistent reads) until it answers 200.',
  floor:
    'the same DynamoDB calls with the plain SDK, same DynamoDB, same run, no HTTP and no framework, as the command runner makes them: for an order the floor has not written before, a consistent Query of its 32 newest events (and for a longer one a consistent GetItem of the snapshot, the events between it and those, and a consistent GetItem of the commandId marker); for one it has, as the runner with its head, a consistent Query of the events after the version it wrote (and the marker beside it past a snapshot); then the event as one conditional PutItem (coupled: a TransactWriteItems of the event and the Update of the order’s view item in the projections table: view, checkpoint, revision, list slots; then the consistent Query of the row’s subscribers the coupled function makes to push it), and once 100 events lie past the snapshot the markers of the commands it covers (BatchWriteItem) and a conditional PutItem of a new snapshot; decoupled visible = that + consistent GetItem and conditional PutItem of the view item (projector) + consistent GetItem of it (query). Against deployed stacks (no floor snapshot or marker tables): Query of the whole history (or after its head) + the event write.',
  client: CLIENT_LATENCY_METHOD,
  push: PUSH_METHOD,
  workflow: WORKFLOW_METHOD,
  observer: OBSERVER_METHOD,
  tokenVerification: TOKEN_VERIFICATION_METHOD,
  interleaving:
    'runners take turns within every sweep and the one that goes first rotates every round, so noise on the machine hits them alike; sequential sweeps (1 client, history) pause a random 0-250 ms (unmeasured) before each round, so commands meet the stream poller at a random point of its cycle.',
};

/** The longest poll interval measured (Lambda's event source mapping polls 4 times a second). */
const PHASE_JITTER_MS = 250;

const CONTENTION_MODES: readonly { mode: ContentionMode; description: string }[] = [
  {
    mode: 'retry',
    description:
      'no expectedVersion: the server retries lost version races (bounded), 409 when retries run out',
  },
  {
    mode: 'expectedVersion',
    description:
      'expectedVersion = the version the client last saw: a stale one is a 409 at once; the client takes the actual version from the answer',
  },
];

const plannedCommands = (
  settings: BenchSettings,
  runners: number,
  profiles: number,
  /** Runners of the warm-up and the cost block only (Target.costOnly). */
  costOnly: number,
  /** Runners of the warm-up and the CPU turns only (Target.functionInvoked, Target.floorAlone). */
  turnsOnly: number,
) =>
  (settings.warmupCommands +
    settings.warmupBurst.clients * settings.warmupBurst.commandsPerClient) *
    (runners + 2 * (costOnly + turnsOnly)) +
  settings.concurrency.reduce((sum, l) => sum + l.clients * l.commandsPerClient * runners, 0) +
  CONTENTION_MODES.length *
    settings.contention.rounds *
    settings.contention.clients *
    settings.contention.attemptsPerClient *
    profiles +
  settings.history.lengths.length *
    settings.history.ordersPerLength *
    settings.history.commandsPerOrder *
    runners +
  settings.clientLatency.commands * 2 * profiles +
  (settings.push.commands + settings.push.fanout.rounds) * profiles +
  settings.workflow.orders * profiles +
  costCommands(settings.quick) * costRounds(settings.quick) * (runners + costOnly) +
  // The turns' own runners and the coupled function alone (a cost-only runner) taking turns.
  (turnsOnly > 0
    ? (turnsOnly + 1) *
      (cpuInTurnsWarmUp(settings.quick) +
        cpuInTurnsBlocks(settings.quick) * cpuInTurnsCommands(settings.quick))
    : 0);

/** The runners of the warm-up and the CPU turns only (locally). */
const turnsOnlyRunners = (target: Target): Runner[] => [
  ...(target.functionInvoked ? [target.functionInvoked] : []),
  ...(target.floorAlone ? [target.floorAlone] : []),
];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** --profile-overhead: the 1-client figures and ratios to overhead.json and the terminal. */
const writeOverhead = async (
  outDir: string,
  run: {
    machine: BenchResult['machine'];
    settings: BenchSettings;
    runners: BenchResult['settings']['runners'];
    profiles: BenchResult['settings']['profiles'];
    level: Awaited<ReturnType<typeof runConcurrencyLevel>>;
    tokenVerification: TokenVerificationFigures;
    cost: CostResult;
    durationMs: number;
  },
) => {
  const figures = figuresByRunner(run.level.samples);
  const headline = {
    clients: run.level.level.clients,
    runners: figures,
    ratios: ratiosOf(run.runners, figures),
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(
    join(outDir, 'overhead.json'),
    `${JSON.stringify({ machine: run.machine, settings: run.settings, method: METHOD, headline, tokenVerification: run.tokenVerification, cost: run.cost, raw: rawOf(run.level.samples) }, null, 2)}\n`,
  );
  const table = headlineTable({
    headline,
    settings: { runners: run.runners, profiles: run.profiles },
  } as unknown as BenchResult);
  const check = run.tokenVerification.perCallUs;
  console.log(
    [
      '',
      'One client, sequential (ms; ratios of p50s):',
      plainTable(table),
      '',
      `Token verification (one check per request, µs): p50 ${check.p50.toFixed(1)}, p95 ${check.p95.toFixed(1)}, p99 ${check.p99.toFixed(1)} over ${run.tokenVerification.calls} calls`,
      '',
      'Cost and CPU per command (each runner alone; units per command, on-demand dollars):',
      plainTable(costTable({ cost: run.cost, headline })),
      '',
    ].join('\n'),
  );
  console.log(`Wrote overhead.json to ${outDir}; total duration: ${seconds(run.durationMs)}`);
};

const runBenchmark = async (
  args: Extract<BenchArgs, { help: false; publishOnly?: undefined }>,
  cleanup: Cleanup,
): Promise<void> => {
  const started = performance.now();
  const startedAt = new Date();
  const machine = machineInfo(startedAt);
  const preset = args.quick ? QUICK_SETTINGS : DEFAULT_SETTINGS;
  const base: BenchSettings =
    args.workflowOrders === undefined
      ? preset
      : { ...preset, workflow: { ...preset.workflow, orders: args.workflowOrders } };
  // --profile-overhead: the warm-up and the 1-client sweep only (docs/benchmark.md).
  const settings: BenchSettings = args.overhead
    ? {
        ...base,
        // Three times the default's one-client rounds: a steadier p50 for the ratio.
        concurrency: [{ clients: 1, commandsPerClient: 300, rounds: 300 }],
        contention: { ...base.contention, rounds: 0 },
        clientLatency: { commands: 0, warmup: 0 },
        push: { commands: 0, warmup: 0, fanout: { subscribers: 0, rounds: 0 } },
        workflow: { ...base.workflow, orders: 0 },
        history: { ...base.history, lengths: [] },
      }
    : base;
  const outDir = resolve(args.out);

  console.log(
    `Benchmark, ${args.target.mode} mode, ${args.quick ? '--quick (about 1.5 minutes)' : 'default settings (about 8 minutes)'}${args.overhead ? ', --profile-overhead (warm-up and 1 client only)' : ''}; results go to ${outDir}`,
  );
  console.log('How it is measured:');
  console.log(`  ack latency     = ${METHOD.ack}`);
  console.log(`  visible latency = ${METHOD.visible}`);
  console.log(`  floor           = ${METHOD.floor}`);
  console.log(`  client latency  = ${METHOD.client}`);
  console.log(`  push latency    = ${METHOD.push}`);
  if (settings.workflow.orders > 0) console.log(`  workflow        = ${METHOD.workflow}`);
  console.log(`  observed        = ${METHOD.observer}`);
  console.log(`  token check     = ${METHOD.tokenVerification}`);
  console.log(`  interleaving    = ${METHOD.interleaving}`);

  const target: Target =
    args.target.mode === 'local'
      ? await startLocalTarget(cleanup)
      : await connectRemoteTarget(args.target, cleanup);
  console.log(
    `Started in ${seconds(performance.now() - started)}: ${target.profileSettings.map((p) => `${p.name} ${p.url}`).join(', ')}${target.floor.available ? '' : `; ${target.floor.note}`}`,
  );
  console.log(`Signed in as ${target.identity.user}: ${target.identity.tokens}`);

  const runners: Runner[] = runnersOf(target);
  const info = runnerInfo(target);
  const progress = createProgress(
    plannedCommands(
      settings,
      runners.length,
      target.profiles.length,
      target.costOnly.length,
      turnsOnlyRunners(target).length,
    ),
  );
  cleanup.push(() => Promise.resolve(progress.stop()));
  const ctx: SweepContext = {
    runId: `b${Date.now().toString(36)}`,
    settings,
    progress,
    phaseJitterMs: PHASE_JITTER_MS,
    settle: () => target.settle(),
  };

  progress.phase('warm-up');
  // The cost block's own runners too, so their processes are as warm as the others'.
  const aloneRunners = [...target.costOnly, ...turnsOnlyRunners(target)];
  await warmUp([...runners, ...aloneRunners], ctx);

  const concurrency = [];
  for (const [index, level] of settings.concurrency.entries()) {
    progress.phase(`concurrency: ${level.clients} client${level.clients === 1 ? '' : 's'}`);
    concurrency.push(await runConcurrencyLevel(runners, level, index, ctx));
  }

  // Units, dollars and CPU per command: each runner alone (./cost.ts).
  const commands = costCommands(settings.quick);
  const rounds = costRounds(settings.quick);
  progress.phase(
    `cost: ${rounds} round${rounds === 1 ? '' : 's'} of ${commands} commands per runner, one runner at a time`,
  );
  // The cost block's and the turns' own runners sat idle through the sweeps: warmed again just
  // before them. (Orders of their own: the first warm-up's are taken.)
  await warmUp(aloneRunners, { ...ctx, runId: `${ctx.runId}-again` });
  const costBlock = await measureCost([...runners, ...target.costOnly], target.usage, {
    runId: ctx.runId,
    commands,
    rounds,
    commandsPerOrder: settings.commandsPerOrder,
    settle: () => target.settle(),
    onCommand: () => progress.tick(),
    idleMs: idleWindowMs(settings.quick),
  });
  // The CPU target's pair, taking turns command by command (./cost.ts, CpuInTurns), the coupled
  // function behind its local gateway beside them.
  const alone = target.costOnly.find((r) => r.name === 'coupled-function');
  const { functionInvoked, floorAlone } = target;
  const turns =
    functionInvoked && floorAlone
      ? (progress.phase(
          `cost: the coupled function invoked, the same behind its gateway, and its floor taking turns, ${cpuInTurnsBlocks(settings.quick)} × ${cpuInTurnsCommands(settings.quick)} commands each`,
        ),
        await measureCpuInTurns(functionInvoked, floorAlone, target.usage, {
          runId: ctx.runId,
          commands: cpuInTurnsCommands(settings.quick),
          blocks: cpuInTurnsBlocks(settings.quick),
          commandsPerOrder: settings.commandsPerOrder,
          onCommand: () => progress.tick(),
          idleMs: idleWindowMs(settings.quick),
          alongside: alone ? [alone] : [],
          warmUp: cpuInTurnsWarmUp(settings.quick),
        }))
      : undefined;
  const cost: CostResult = turns ? { ...costBlock, turns } : costBlock;

  if (args.overhead) {
    progress.phase('token verification: one check at a time');
    const tokenVerification = await measureTokenVerification(settings.tokenVerification);
    progress.stop();
    await writeOverhead(outDir, {
      machine,
      settings,
      runners: info,
      profiles: target.profileSettings,
      level: concurrency[0]!,
      tokenVerification,
      cost,
      durationMs: performance.now() - started,
    });
    return;
  }

  progress.phase('client latency: the client library in a Redux store vs a bare fetch');
  const client = await runClientLatency(target.profiles, settings.clientLatency, ctx.runId, () =>
    progress.tick(),
  );

  const push = target.websockets
    ? (progress.phase('push: client A’s command until client B’s store shows it; fan-out'),
      await runPushLatency(
        target.profiles,
        target.websockets,
        settings.push,
        ctx.runId,
        () => progress.tick(),
        target.followers,
      ))
    : undefined;

  const workflow =
    settings.workflow.orders > 0
      ? (progress.phase('workflow: order submitted until a GET shows it confirmed'),
        await runWorkflowLatency(target.profiles, settings.workflow, ctx.runId, {
          phaseJitterMs: PHASE_JITTER_MS,
          streamPollMs: target.streamPollMs,
          onOrder: () => progress.tick(),
        }))
      : undefined;

  // Write units per event of the order view's items, its status list holding rows against keys
  // (local DynamoDB only: it reports index capacity; bench/probes/index-cost.ts). Small and
  // large rows.
  const indexCost = target.dynamoDbEndpoint
    ? await (async () => {
        const figures = [];
        for (const lines of settings.quick ? [10] : [2, 10, 50]) {
          progress.phase(`index cost: ${lines} lines per order, status list of rows and of keys`);
          figures.push(await measureIndexCost({ endpoint: target.dynamoDbEndpoint, lines }));
        }
        return figures;
      })()
    : undefined;

  const contention = [];
  for (const [index, { mode, description }] of CONTENTION_MODES.entries()) {
    progress.phase(`contention: ${settings.contention.clients} clients on one order, ${mode}`);
    const counts = await runContention(target.profiles, mode, index, ctx);
    contention.push({
      mode,
      description,
      profiles: Object.fromEntries([...counts].map(([name, c]) => [name, contentionFiguresOf(c)])),
    });
  }

  const history = [];
  for (const [index, length] of settings.history.lengths.entries()) {
    progress.phase(`history ${length}: building orders`);
    const samples = await runHistoryLength(runners, length, index, ctx, () =>
      progress.phase(`history ${length}: measuring`),
    );
    history.push({ length, samples });
  }

  // CPU only, in this process, while the stacks are idle: what each request's check costs.
  progress.phase('token verification: one check at a time');
  const tokenVerification = await measureTokenVerification(settings.tokenVerification);
  progress.stop();

  const finishedAt = new Date();
  const levels = concurrency.map(({ level, samples }) => {
    const figures = figuresByRunner(samples);
    return { ...level, runners: figures, ratios: ratiosOf(info, figures) };
  });
  const first = levels[0]!;
  const eventSources = await target.eventSources();
  const result: BenchResult = {
    schemaVersion: 1,
    mode: target.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    machine,
    settings: {
      ...settings,
      profiles: target.profileSettings,
      runners: info,
      floor: target.floor,
      method: METHOD,
      phaseJitterMs: PHASE_JITTER_MS,
      identity: target.identity,
      ...(target.dynamoDbEndpoint && { dynamoDbEndpoint: target.dynamoDbEndpoint }),
    },
    headline: { clients: first.clients, runners: first.runners, ratios: first.ratios },
    client,
    ...(push && { push }),
    ...(workflow && { workflow }),
    tokenVerification,
    ...(indexCost && { indexCost }),
    cost,
    concurrency: levels,
    contention: {
      clients: settings.contention.clients,
      attemptsPerClient: settings.contention.attemptsPerClient,
      rounds: settings.contention.rounds,
      modes: contention,
    },
    history: history.map(({ length, samples }) => {
      const figures = figuresByRunner(samples);
      return { length, runners: figures, ratios: ratiosOf(info, figures) };
    }),
    ...(eventSources && { eventSources }),
    raw: {
      concurrency: concurrency.map(({ level, samples }) => ({
        clients: level.clients,
        runners: rawOf(samples),
      })),
      history: history.map(({ length, samples }) => ({ length, runners: rawOf(samples) })),
    },
  };

  await mkdir(outDir, { recursive: true });
  const [distribution, byHistory] = [
    await renderSvg(distributionSpec(result)),
    await renderSvg(historySpec(result)),
  ];
  await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(outDir, 'latest.md'), markdownReport(result));
  await writeFile(join(outDir, 'latency-distribution.svg'), distribution);
  await writeFile(join(outDir, 'latency-vs-history.svg'), byHistory);

  console.log(terminalReport(result));
  const failed = [...levels, ...result.history].reduce(
    (sum, entry) => sum + Object.values(entry.runners).reduce((n, f) => n + f.errors, 0),
    0,
  );
  if (failed > 0) console.log(`warning: ${failed} commands failed (see the errors column)`);
  console.log(
    `Wrote latest.json, latest.md, latency-distribution.svg and latency-vs-history.svg to ${outDir}`,
  );
  if (args.publish) {
    const changed = publishDocs(result);
    console.log(
      `Published: ${changed.length > 0 ? `rewrote the generated sections of ${changed.join(' and ')}` : 'the generated sections were already up to date'}`,
    );
  } else {
    console.log('To show these figures in the README and docs/benchmark.md: --publish');
  }
  console.log(`Total duration: ${seconds(performance.now() - started)}`);
};

const main = async (): Promise<number> => {
  // A separate part: bundle sizes and load times, no stacks (see bench/bundles.ts).
  if (process.argv.includes('--bundles')) return runBundlesCli(process.argv.slice(2));
  // A separate part: write units per event of the order row, old and new table (no stacks).
  if (process.argv.includes('--index-cost')) return runIndexCostCli(process.argv.slice(2));
  // A separate part: rebuild throughput beside a raw parallel Scan (see bench/rebuild.ts).
  if (process.argv.includes('--rebuild')) return runRebuildBench(process.argv.slice(2));
  // A separate part: many writers on one order, the stacks' answers against issue 23's targets
  // (see bench/hot-aggregate.ts).
  if (process.argv.includes('--hot-aggregate')) return runHotAggregateCli(process.argv.slice(2));
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}`);
    console.error(USAGE_HINT);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  if (args.publishOnly) return publishOnly();

  // `npm run bench | head` closes stdout early: keep going (and clean up) instead of crashing.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }

  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the servers and DynamoDB Local...`);
    void cleanup.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await runBenchmark(args, cleanup);
    return 0;
  } finally {
    await cleanup.run();
  }
};

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`error: ${message}`);
      if (!(error instanceof LocalRuntimeError) && error instanceof Error && error.stack) {
        console.error(error.stack.split('\n').slice(1, 6).join('\n'));
      }
      process.exit(1);
    },
  );
}
