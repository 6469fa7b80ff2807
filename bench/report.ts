/** The results as text: tables for the terminal and a Markdown summary (latest.md). */
import type { BenchResult, ProfileRatios, RunnerFigures } from './results';
import { ratio, type Summary } from './stats';

type Align = 'left' | 'right';

export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Per column; default: the first column left, the others right. */
  readonly align?: readonly Align[];
}

const alignOf = (table: Table, column: number): Align =>
  table.align?.[column] ?? (column === 0 ? 'left' : 'right');

/** A table with aligned columns, for the terminal. */
export const plainTable = (table: Table): string => {
  const widths = table.headers.map((h, c) =>
    Math.max(h.length, ...table.rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) =>
        alignOf(table, c) === 'left' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
      )
      .join('  ')
      .trimEnd();
  return [
    line(table.headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
};

/** A GitHub-flavoured Markdown table. */
export const markdownTable = (table: Table): string => {
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    row(table.headers),
    row(table.headers.map((_, c) => (alignOf(table, c) === 'left' ? '---' : '---:'))),
    ...table.rows.map(row),
  ].join('\n');
};

/** Milliseconds with sensible precision. */
export const ms = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return '–';
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
};

export const times = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : `${value.toFixed(2)}×`;

const rate = (value: number) => (value < 100 ? value.toFixed(1) : value.toFixed(0));

const quartet = (s: Summary | null | undefined) => [ms(s?.p50), ms(s?.p95), ms(s?.p99), ms(s?.max)];

const errorsText = (f: Pick<RunnerFigures, 'errors' | 'errorCodes'> | undefined) =>
  !f || f.errors === 0
    ? '0'
    : `${f.errors} (${Object.entries(f.errorCodes)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ')})`;

export const RUNNER_LABELS: Record<string, string> = {
  'floor-decoupled': 'floor: Query+Put (visible: +Get+Put+Get)',
  'floor-coupled': 'floor: Query+TransactWrite (event+row)+Query (subscribers)',
  'coupled-function': 'coupled function alone (its process: no stream function)',
};

const label = (name: string) => RUNNER_LABELS[name] ?? name;

const profileNames = (result: BenchResult) => result.settings.profiles.map((p) => p.name);
const allNames = (result: BenchResult) => result.settings.runners.map((r) => r.name);

export const headlineTable = (result: BenchResult): Table => {
  const { runners, ratios } = result.headline;
  const rowFor = (name: string, r?: ProfileRatios) => {
    const f = runners[name];
    return [
      label(name),
      String(f?.samples ?? 0),
      ...quartet(f?.ack),
      ...quartet(f?.visible),
      times(r?.ackToFloor),
      times(r?.visibleToFloor),
      times(r?.ackToCoupled),
      times(r?.visibleToCoupled),
    ];
  };
  return {
    headers: [
      'profile (1 client)',
      'n',
      'ack p50',
      'p95',
      'p99',
      'max',
      'visible p50',
      'p95',
      'p99',
      'max',
      'ack/floor',
      'visible/floor',
      'ack/coupled',
      'visible/coupled',
    ],
    rows: allNames(result).map((name) => rowFor(name, ratios[name])),
  };
};

/**
 * Client-visible latency beside the 1-client ack and server-visible p50s of the headline: what
 * a Redux user of the client waits for, and what the library adds over a bare fetch.
 */
export const clientTable = (result: BenchResult): Table => ({
  headers: [
    'profile (1 client)',
    'n',
    'fetch p50',
    'client p50',
    'p95',
    'p99',
    'max',
    'client overhead p50',
    'ack p50',
    'server-visible p50',
    'errors',
  ],
  rows: profileNames(result).map((name) => {
    const c = result.client?.[name];
    const h = result.headline.runners[name];
    return [
      name,
      String(c?.samples ?? 0),
      ms(c?.fetch?.p50),
      ...quartet(c?.client),
      c?.overheadP50Ms === null || c?.overheadP50Ms === undefined
        ? '–'
        : `${c.overheadP50Ms >= 0 ? '+' : ''}${ms(c.overheadP50Ms)}`,
      ms(h?.ack?.p50),
      ms(h?.visible?.p50),
      String(c?.errors ?? 0),
    ];
  }),
});

/**
 * The index columns of the index-cost figures: each list (index, in results of older runs) they
 * report, the status one first (what the figures are about): `status`, `customerId`; `byStatus`,
 * `byCustomer`.
 */
const indexColumns = (figures: BenchResult['indexCost']): string[] =>
  [
    ...new Set(
      (figures ?? []).flatMap((f) => [
        ...Object.keys(f.before.indexes),
        ...Object.keys(f.after.indexes),
      ]),
    ),
  ].sort((a, b) => Number(/status/i.test(b)) - Number(/status/i.test(a)));

/** Write units per event of the order view's items: the two sides compared, same rows. */
export const indexCostTable = (result: BenchResult): Table => {
  const indexes = indexColumns(result.indexCost);
  return {
    headers: [
      'lines/order',
      'row bytes',
      'events',
      'WCU/event before',
      'table',
      ...indexes,
      'after',
      'table',
      ...indexes,
      'draft-partition writes/event before',
      'after',
    ],
    rows: (result.indexCost ?? []).map((f) => [
      String(f.linesPerOrder),
      String(f.meanRowBytes),
      String(f.events),
      ...[f.before, f.after].flatMap((u) => [
        String(u.total),
        String(u.table),
        ...indexes.map((index) => String(u.indexes[index] ?? 0)),
      ]),
      String(f.draftPartitionWritesPerEvent.before),
      String(f.draftPartitionWritesPerEvent.after),
    ]),
  };
};

/** What the index-cost figures compare: as measured (results of older runs: the old table). */
const indexCostSides = (result: BenchResult) =>
  result.indexCost?.[0]?.sides ?? {
    before: 'old read-model table',
    after: 'the new',
  };

/** Push latency (A's command until B's store shows it) and fan-out, per profile. */
export const pushTable = (result: BenchResult): Table => ({
  headers: [
    'profile',
    'n',
    'push p50',
    'p95',
    'p99',
    'max',
    'subscribers',
    'rounds',
    'fan-out last p50',
    'p95',
    'p99',
    'max',
    'errors',
  ],
  rows: Object.entries(result.push ?? {}).map(([name, p]) => [
    name,
    String(p.samples),
    ...quartet(p.latency),
    String(p.fanout.subscribers),
    String(p.fanout.rounds),
    ...quartet(p.fanout.last),
    String(p.errors + p.fanout.errors),
  ]),
});

/** The workflow's figures with any samples or errors, in the profiles' order. */
const workflowEntries = (result: BenchResult) =>
  profileNames(result).flatMap((name) => {
    const figures = result.workflow?.[name];
    return figures ? [[name, figures] as const] : [];
  });

/**
 * The fulfilment workflow per profile (order submitted -> seen confirmed) beside the single
 * command's ack and visible p50s of the 1-client sweep; undefined when the run has none.
 */
export const workflowTable = (result: BenchResult): Table | undefined => {
  const entries = workflowEntries(result);
  if (entries.length === 0) return undefined;
  return {
    headers: [
      'profile (1 order at a time)',
      'n',
      'submitted → confirmed p50',
      'p95',
      'p99',
      'max',
      'submit ack p50',
      '1-command ack p50',
      '1-command visible p50',
      'stream poll ms',
      'GETs/order',
      'errors',
    ],
    rows: entries.map(([name, w]) => {
      const h = result.headline.runners[name];
      return [
        name,
        String(w.samples),
        ...quartet(w.confirmed),
        ms(w.submitAck?.p50),
        ms(h?.ack?.p50),
        ms(h?.visible?.p50),
        w.streamPollMs === undefined ? '–' : String(w.streamPollMs),
        w.readsPerOrder === null ? '–' : w.readsPerOrder.toFixed(1),
        w.setupError ? `not run: ${w.setupError}` : errorsText(w),
      ];
    }),
  };
};

/** Units per command: up to 2 decimals, trailing zeros dropped. */
const units = (value: number | undefined): string =>
  value === undefined ? '–' : String(Math.round(value * 100) / 100);

/** Dollars per million commands. */
export const dollars = (value: number | null | undefined): string =>
  value === null || value === undefined
    ? '–'
    : `$${value < 10 ? value.toFixed(3) : value.toFixed(2)}`;

/** A runner's units per command by table: `event 1W · projections 1R 2W`. */
const unitsByTable = (tables: Record<string, { readUnits: number; writeUnits: number }>): string =>
  Object.entries(tables)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([table, t]) =>
        `${table} ${
          [
            t.readUnits > 0 ? `${units(t.readUnits)}R` : '',
            t.writeUnits > 0 ? `${units(t.writeUnits)}W` : '',
          ]
            .filter(Boolean)
            .join(' ') || '0'
        }`,
    )
    .join(' · ');

/**
 * Cost and CPU per command, per runner, beside its 1-client ack p50: request units (read R, write
 * W) by table, dollars per million commands at on-demand prices, CPU ms of the serving process.
 */
export const costTable = (result: Pick<BenchResult, 'cost' | 'headline'>): Table => {
  const runners = result.cost?.runners ?? {};
  const floorCpu = (name: string) =>
    runners[name.startsWith('coupled') ? 'floor-coupled' : 'floor-decoupled']?.cpuMsPerCommand;
  return {
    headers: [
      'runner',
      'n',
      'read units/cmd',
      'write units/cmd',
      'by table',
      'calls/cmd',
      '$ per 1M cmds',
      'CPU ms/cmd',
      'CPU/floor',
      'gross CPU ms/cmd',
      'idle CPU ms/s',
      'ack p50 (1 client)',
    ],
    align: ['left', 'right', 'right', 'right', 'left'],
    rows: Object.entries(runners).map(([name, c]) => [
      label(name),
      String(c.commands),
      units(c.readUnits),
      units(c.writeUnits),
      unitsByTable(c.tables) || '–',
      units(c.calls),
      dollars(c.dollarsPerMillionCommands),
      ms(c.cpuMsPerCommand),
      name.startsWith('floor') ? '–' : times(ratio(c.cpuMsPerCommand, floorCpu(name))),
      ms(c.grossCpuMsPerCommand),
      ms(c.idleCpuMsPerSecond),
      ms(result.headline.runners[name]?.ack?.p50),
    ]),
  };
};

/** The prices and where the units come from, under the cost table. */
export const costNote = (result: Pick<BenchResult, 'cost'>): string | undefined => {
  const cost = result.cost;
  if (!cost) return undefined;
  const p = cost.prices;
  return `Dollars at DynamoDB on-demand prices, ${p.tableClass} table class, ${p.region}: $${p.writePerMillionUnits} per million write request units, $${p.readPerMillionUnits} per million read request units (checked ${p.checked}, ${p.source}); throughput only (no storage, streams or Lambda). ${cost.commandsPerRunner} commands per runner; ${cost.method}`;
};

/** Each block's ratio, when there was more than one: `; blocks 1.25×, 1.40×, 1.28×`. */
const turnsBlocks = (t: { readonly blocks?: readonly { readonly ratio: number }[] }) =>
  t.blocks && t.blocks.length > 1
    ? `; blocks ${t.blocks.map((b) => times(b.ratio)).join(', ')}`
    : '';

/** What a runner read in the CPU turns is, for the reader. */
const TURNS_SUBJECTS: Record<string, string> = {
  'coupled-function-invoked': 'the coupled function as a Lambda instance runs it',
  'coupled-function': 'the same function behind its local gateway',
};

/** The runners read beside the CPU target's subject: `; beside them, \`coupled-function\` (...) 8.10 ms/command, 1.40×; blocks ...`. */
const turnsAlongside = (t: NonNullable<NonNullable<BenchResult['cost']>['turns']>) =>
  (t.alongside ?? [])
    .map(
      (a) =>
        `; beside them, \`${a.subject}\`${TURNS_SUBJECTS[a.subject] ? ` (${TURNS_SUBJECTS[a.subject]})` : ''} ${ms(a.subjectCpuMsPerCommand)} ms/command, ${times(a.ratio)}${turnsBlocks(a)}`,
    )
    .join('');

/** The CPU target's reading: the coupled function alone and its floor taking turns. */
export const cpuInTurnsNote = (result: Pick<BenchResult, 'cost'>): string | undefined => {
  const t = result.cost?.turns;
  if (!t) return undefined;
  return `**CPU taking turns** (the figure the CPU target reads): \`${t.subject}\` ${ms(t.subjectCpuMsPerCommand)} ms/command against \`${t.floor}\` ${ms(t.floorCpuMsPerCommand)}, **${times(t.ratio)}**${turnsBlocks(t)}${turnsAlongside(t)}; ${t.commands} commands each${t.errors > 0 ? `, ${t.errors} failed` : ''}: ${t.method}`;
};

const costLines = (result: BenchResult, render: (table: Table) => string, title: string) => {
  if (!result.cost) return [];
  const note = costNote(result);
  const turns = cpuInTurnsNote(result);
  return [
    title,
    '',
    render(costTable(result)),
    '',
    ...(note ? [note, ''] : []),
    ...(turns ? [turns, ''] : []),
  ];
};

/** Microseconds with sensible precision. */
const micros = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : value < 100 ? value.toFixed(1) : value.toFixed(0);

/** What one token check costs (µs per call), when the run measured it. */
export const tokenVerificationTable = (result: BenchResult): Table | undefined => {
  const t = result.tokenVerification;
  if (!t) return undefined;
  const s = t.perCallUs;
  return {
    headers: ['token check (µs per call)', 'calls', 'p50', 'p95', 'p99', 'max', 'mean'],
    rows: [
      [
        `${t.token.alg}, ${t.token.modulusBits}-bit key cached, ${t.token.bytes}-byte ID token`,
        String(t.calls),
        micros(s.p50),
        micros(s.p95),
        micros(s.p99),
        micros(s.max),
        micros(s.mean),
      ],
    ],
  };
};

/**
 * The token check beside what a command costs: its share of each profile's 1-client ack p50 and
 * of the framework overhead (ack p50 less the floor's), which every local request now includes.
 */
export const tokenVerificationShare = (result: BenchResult): string | undefined => {
  const t = result.tokenVerification;
  // Deployed, API Gateway's authorizer checks HTTP tokens on its own machines, not this one.
  if (!t || result.mode !== 'local') return undefined;
  const checkMs = t.perCallUs.p50 / 1000;
  const parts = result.settings.profiles.flatMap((profile) => {
    const ack = result.headline.runners[profile.name]?.ack?.p50;
    if (ack === undefined || !(ack > 0)) return [];
    const floorName = result.settings.runners.find(
      (r) => r.kind === (profile.kind === 'coupled' ? 'floor-coupled' : 'floor-decoupled'),
    )?.name;
    const floor = floorName ? result.headline.runners[floorName]?.ack?.p50 : undefined;
    const overhead = floor !== undefined ? ack - floor : undefined;
    const percent = (part: number, whole: number) => {
      const value = (100 * part) / whole;
      return `${value < 1 ? value.toFixed(2) : value.toFixed(1)}%`;
    };
    return [
      `${profile.name} ${percent(checkMs, ack)} of its ack p50 (${ms(ack)} ms)${overhead !== undefined && overhead > 0 ? `, ${percent(checkMs, overhead)} of its framework overhead (${ms(overhead)} ms)` : ''}`,
    ];
  });
  return parts.length > 0
    ? `One check at p50 (${micros(t.perCallUs.p50)} µs, once per request) is: ${parts.join('; ')}.`
    : undefined;
};

const tokenVerificationLines = (
  result: BenchResult,
  render: (table: Table) => string,
  title: string,
): string[] => {
  const table = tokenVerificationTable(result);
  if (!table) return [];
  const share = tokenVerificationShare(result);
  return [title, '', render(table), '', ...(share ? [share, ''] : [])];
};

export const concurrencyTable = (result: BenchResult): Table => ({
  headers: [
    'clients',
    'profile',
    'n',
    'cmd/s',
    'ack p50',
    'p95',
    'p99',
    'max',
    'visible p50',
    'p95',
    'p99',
    'max',
    'ack/floor',
    'visible/coupled',
    'errors',
  ],
  align: ['right', 'left'],
  rows: result.concurrency.flatMap((level) =>
    allNames(result).map((name) => {
      const f = level.runners[name];
      const r = level.ratios[name];
      return [
        String(level.clients),
        label(name),
        String(f?.samples ?? 0),
        f ? rate(f.throughput) : '–',
        ...quartet(f?.ack),
        ...quartet(f?.visible),
        times(r?.ackToFloor),
        times(r?.visibleToCoupled),
        errorsText(f),
      ];
    }),
  ),
});

export const contentionTable = (result: BenchResult): Table => ({
  headers: [
    'mode',
    'profile',
    'attempts',
    'ok',
    '409',
    '503',
    'other',
    'server retries',
    'ok/s',
    'ack p50',
    'p95',
    'p99',
    'max',
  ],
  align: ['left', 'left'],
  rows: result.contention.modes.flatMap((mode) =>
    profileNames(result).map((name) => {
      const f = mode.profiles[name];
      return [
        mode.mode === 'retry' ? 'no expectedVersion' : 'expectedVersion',
        name,
        String(f?.attempts ?? 0),
        String(f?.successes ?? 0),
        String(f?.conflicts ?? 0),
        String(f?.transactionConflicts ?? 0),
        String(f?.otherErrors ?? 0),
        String(f?.retries ?? 0),
        f ? rate(f.throughput) : '–',
        ...quartet(f?.ack),
      ];
    }),
  ),
});

export const historyTable = (result: BenchResult): Table => ({
  headers: [
    'events before',
    'profile',
    'n',
    'ack p50',
    'p95',
    'max',
    'visible p50',
    'p95',
    'max',
    'ack/floor',
    'ack/ack@shortest',
  ],
  align: ['right', 'left'],
  rows: result.history.flatMap((entry) =>
    allNames(result).map((name) => {
      const f = entry.runners[name];
      const shortest = result.history[0]?.runners[name]?.ack?.p50;
      return [
        String(entry.length),
        label(name),
        String(f?.samples ?? 0),
        ms(f?.ack?.p50),
        ms(f?.ack?.p95),
        ms(f?.ack?.max),
        ms(f?.visible?.p50),
        ms(f?.visible?.p95),
        ms(f?.visible?.max),
        times(entry.ratios[name]?.ackToFloor),
        times(f?.ack?.p50 !== undefined && shortest ? f.ack.p50 / shortest : null),
      ];
    }),
  ),
});

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export const machineLine = (result: BenchResult): string => {
  const m = result.machine;
  return `${m.cpuModel} × ${m.cpus} CPUs, ${gib(m.totalMemoryBytes)}, ${m.platform} ${m.release} ${m.arch}, Node ${m.node}, load average ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')} at start; commit ${m.gitCommit?.slice(0, 12) ?? 'unknown'}${m.gitDirty ? ' (with uncommitted changes)' : ''}`;
};

export const settingsLines = (result: BenchResult): string[] => {
  const s = result.settings;
  const profiles = s.profiles.map((p) => {
    const source = p.eventSource;
    if (!source) return `${p.name} (read model written with the events)`;
    if (source.pollIntervalMs === undefined) return `${p.name} (${source.kind})`;
    return `${p.name} (${source.kind}: poll every ${source.pollIntervalMs} ms, batch size ${source.batchSize}, batching window ${source.batchingWindowMs} ms)`;
  });
  return [
    `Mode: ${result.mode}${s.quick ? ' (--quick)' : ''}; profiles: ${profiles.join('; ')}.`,
    `Concurrency: ${s.concurrency.map((l) => `${l.clients} × ${l.commandsPerClient}`).join(', ')} (clients × commands per client); contention: ${s.contention.clients} clients × ${s.contention.attemptsPerClient} commands on one order, ${s.contention.rounds} round(s) per mode; history: ${s.history.lengths.join('/')} events, ${s.history.ordersPerLength} orders × ${s.history.commandsPerOrder} commands each (at most ${s.history.maxSeededEvents.toLocaleString('en-US')} seeded events per runner: fewer orders, more commands each, at long histories; measured after the projectors caught up); warm-up: ${s.warmupCommands} commands per profile, then ${s.warmupBurst.clients} clients × ${s.warmupBurst.commandsPerClient} commands.`,
    `Ack latency: ${s.method.ack} Visible latency: ${s.method.visible}`,
    `Floor: ${s.floor.available ? s.method.floor : s.floor.note}`,
    ...(s.method.observer ? [`Observed (true visibility): ${s.method.observer}`] : []),
    ...(s.clientLatency
      ? [
          `Client-visible latency: ${s.clientLatency.commands} commands per profile and path after ${s.clientLatency.warmup} unrecorded; ${s.method.client}`,
        ]
      : []),
    ...(s.identity ? [`Signed in as ${s.identity.user}: ${s.identity.tokens}.`] : []),
    ...(s.method.tokenVerification && result.tokenVerification
      ? [
          `Token verification: ${result.tokenVerification.calls} calls after ${result.tokenVerification.warmup} unrecorded; ${s.method.tokenVerification}`,
        ]
      : []),
    ...(s.workflow && s.method.workflow && result.workflow
      ? [
          `Workflow latency: ${s.workflow.orders} orders per profile after ${s.workflow.warmup} unrecorded, ${s.workflow.linesPerOrder} lines each; ${s.method.workflow}`,
        ]
      : []),
    ...(s.push && result.push
      ? [
          `Push latency: ${s.push.commands} commands per profile after ${s.push.warmup} unrecorded; fan-out: ${s.push.fanout.subscribers} subscribers, ${s.push.fanout.rounds} rounds after one unrecorded; ${s.method.push ?? ''}`,
        ]
      : []),
  ];
};

const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;

/**
 * The headline in a few columns, for the README: p50s of one client, the ratios of this run,
 * and the independent observer's p50 where there is one (decoupled).
 */
export const summaryTable = (result: BenchResult): Table => {
  // Runs with the workflow sweep add its p50 and p95 (order submitted -> seen confirmed).
  const workflow = workflowEntries(result).length > 0;
  // Runs with the cost block add dollars per million commands and CPU ms per command.
  const cost = result.cost?.runners;
  return {
    headers: [
      'profile',
      'ack p50',
      'visible p50',
      'ack / floor',
      'visible / floor',
      'visible / coupled',
      'observed (own reader)',
      ...(workflow ? ['workflow: submitted → confirmed p50', 'p95'] : []),
      ...(cost ? ['$ per 1M commands', 'CPU ms/command'] : []),
    ],
    rows: profileNames(result).map((name) => {
      const f = result.headline.runners[name];
      const r = result.headline.ratios[name];
      const w = result.workflow?.[name];
      return [
        name,
        ms(f?.ack?.p50),
        ms(f?.visible?.p50),
        times(r?.ackToFloor),
        times(r?.visibleToFloor),
        times(r?.visibleToCoupled),
        ms(f?.observed?.p50),
        ...(workflow ? [ms(w?.confirmed?.p50), ms(w?.confirmed?.p95)] : []),
        ...(cost
          ? [dollars(cost[name]?.dollarsPerMillionCommands), ms(cost[name]?.cpuMsPerCommand)]
          : []),
      ];
    }),
  };
};

/** The coupled function alone's CPU per command beside its floor's, when the run measured it. */
const functionAlone = (cost: NonNullable<BenchResult['cost']>): string => {
  const t = cost.turns;
  if (t) {
    // Until 2026-12-07 the floor was read in the bench's process (docs/decisions/cpu-floor-in-a-process.md).
    const floor =
      t.floor === 'floor-coupled'
        ? 'its floor'
        : 'its floor (the same calls in a process of their own)';
    const gateway = t.alongside?.find((a) => a.subject === 'coupled-function');
    // From 2026-12-08 the subject is the function invoked as Lambda runs it, no gateway.
    if (t.subject === 'coupled-function-invoked') {
      return ` The coupled function as a Lambda instance runs it (its handler handed each event in a process of its own), taking turns with ${floor} command by command: ${ms(t.subjectCpuMsPerCommand)} ms/command, ${times(t.ratio)} its floor's ${ms(t.floorCpuMsPerCommand)}${turnsBlocks(t)}${gateway ? `; behind its local gateway (HTTP, routing, the token check), ${ms(gateway.subjectCpuMsPerCommand)} ms/command, ${times(gateway.ratio)}` : ''}.`;
    }
    return ` The coupled function alone (a process with no stream function, as a Lambda instance runs), taking turns with ${floor} command by command: ${ms(t.subjectCpuMsPerCommand)} ms/command, ${times(t.ratio)} its floor's ${ms(t.floorCpuMsPerCommand)}${turnsBlocks(t)}.`;
  }
  const alone = cost.runners['coupled-function']?.cpuMsPerCommand;
  const floor = cost.runners['floor-coupled']?.cpuMsPerCommand;
  if (alone === undefined || alone === null) return '';
  return ` The coupled function alone (a process with no stream function, as a Lambda instance runs): ${ms(alone)} ms/command, ${times(ratio(alone, floor))} its floor's ${ms(floor)}.`;
};

/** The README's results: where and how the run was made, then `summaryTable`. */
export const markdownSummary = (result: BenchResult): string => {
  const s = result.settings;
  const polls = s.profiles
    .map((p) => p.eventSource?.pollIntervalMs)
    .filter((v): v is number => v !== undefined);
  const batch = s.profiles.find((p) => p.eventSource?.batchSize !== undefined)?.eventSource;
  const m = result.machine;
  const run = `${result.mode === 'local' ? 'DynamoDB Local' : 'deployed stacks'}${polls.length > 0 ? `; poll ${polls.join(' ms and ')} ms` : ''}${batch?.batchSize !== undefined ? `, batch size ${batch.batchSize}` : ''}`;
  return [
    `A ${s.quick ? '`--quick`' : 'default'} run (\`npm run bench${s.quick ? ' -- --quick' : ''}\`, ${seconds(result.durationMs)}) on ${m.cpuModel} × ${m.cpus} CPUs, Node ${m.node}, ${run}; one client, ${result.headline.runners[profileNames(result)[0] ?? '']?.samples ?? 0} sequential commands per profile, p50 in ms, ratios measured within the run; ${result.startedAt.slice(0, 10)}, commit \`${m.gitCommit?.slice(0, 7) ?? 'unknown'}\`${m.gitDirty ? ' with uncommitted changes' : ''}, load average ${m.loadAverage[0]?.toFixed(1) ?? '?'} at the start.`,
    ...(result.cost
      ? [
          '',
          `\`$ per 1M commands\`: DynamoDB request units per command (every call reports its consumed capacity; what DynamoDB Local reports wrongly is computed by AWS's rules) at on-demand prices, ${result.cost.prices.region}, checked ${result.cost.prices.checked}; \`CPU ms/command\`: CPU time of the stack's process (local gateway and pollers included, their idle rate subtracted); ${result.cost.commandsPerRunner} commands per profile, each profile alone (docs/benchmark.md, "Cost and CPU per command").${functionAlone(result.cost)}`,
        ]
      : []),
    '',
    markdownTable(summaryTable(result)),
  ].join('\n');
};

/**
 * latest.md, and the full results docs/benchmark.md shows. `chartDir` is where the charts are as
 * seen from the file the report goes into: '' beside them (latest.md), `../bench/results` from
 * docs/.
 */
export const markdownReport = (result: BenchResult, chartDir = ''): string =>
  [
    `### Benchmark results (${result.mode}${result.settings.quick ? ', quick' : ''}, ${result.startedAt.slice(0, 10)})`,
    '',
    `Machine: ${machineLine(result)}. Run took ${seconds(result.durationMs)}.`,
    '',
    ...settingsLines(result).map((line) => `- ${line}`),
    '',
    'Times in milliseconds. Ratios compare p50s measured in this run: `ack/floor` and `visible/floor` are the framework overhead over the plain DynamoDB calls; `ack/coupled` and `visible/coupled` compare a decoupled profile with the coupled one.',
    '',
    '#### One client, sequential',
    '',
    markdownTable(headlineTable(result)),
    '',
    ...costLines(
      result,
      markdownTable,
      '#### Cost and CPU per command (each runner alone; request units per command: R read, W write)',
    ),
    ...visibilityLines(
      result,
      markdownTable,
      '#### True visibility (an independent observer reading the row) beside `?minVersion`',
    ),
    ...(result.client
      ? [
          '#### Client-visible latency (the client library in a Node Redux store, 1 client)',
          '',
          markdownTable(clientTable(result)),
          '',
        ]
      : []),
    ...(result.push
      ? [
          '#### Push latency (client A’s command until client B’s store shows it) and fan-out',
          '',
          markdownTable(pushTable(result)),
          '',
        ]
      : []),
    ...workflowLines(
      result,
      markdownTable,
      '#### Workflow: order submitted → confirmed (the fulfilment process manager, one order at a time)',
    ),
    ...tokenVerificationLines(
      result,
      markdownTable,
      '#### Token verification (what every request’s token check costs)',
    ),
    ...(result.indexCost
      ? [
          `#### Write units per event of the order row (${indexCostSides(result).before} against ${indexCostSides(result).after}; DynamoDB Local, ReturnConsumedCapacity INDEXES)`,
          '',
          markdownTable(indexCostTable(result)),
          '',
        ]
      : []),
    '#### Concurrency (each client on its own orders; a decoupled client waits to see each write)',
    '',
    markdownTable(concurrencyTable(result)),
    '',
    `#### Contention (${result.contention.clients} clients on one order, ack only)`,
    '',
    markdownTable(contentionTable(result)),
    '',
    '#### History length (events in the order before the measured command)',
    '',
    markdownTable(historyTable(result)),
    '',
    `![Latency distribution](${chartDir ? `${chartDir}/` : ''}latency-distribution.svg)`,
    '',
    `![Latency against history length](${chartDir ? `${chartDir}/` : ''}latency-vs-history.svg)`,
    '',
  ].join('\n');

/** What the terminal shows at the end. */
/**
 * True visibility (the independent observer) beside the `?minVersion` answer, for the profiles
 * that have both (decoupled, one client): what the query's wait adds over the row being there.
 */
export const visibilityTable = (result: BenchResult): Table | undefined => {
  const names = profileNames(result).filter((n) => result.headline.runners[n]?.observed);
  if (names.length === 0) return undefined;
  return {
    headers: [
      'profile (1 client)',
      'n',
      'observed p50',
      'p95',
      'p99',
      'max',
      '?minVersion p50',
      'p95',
      'p99',
      'max',
      'p50 difference',
    ],
    rows: names.map((name) => {
      const f = result.headline.runners[name]!;
      const difference =
        f.observed && f.visible ? ms(f.visible.p50 - f.observed.p50) : ms(undefined);
      return [
        label(name),
        String(f.observed?.count ?? 0),
        ...quartet(f.observed),
        ...quartet(f.visible),
        difference,
      ];
    }),
  };
};

const workflowLines = (result: BenchResult, render: (table: Table) => string, title: string) => {
  const table = workflowTable(result);
  return table ? [title, '', render(table), ''] : [];
};

const visibilityLines = (result: BenchResult, render: (table: Table) => string, title: string) => {
  const table = visibilityTable(result);
  return table ? [title, '', render(table), ''] : [];
};

export const terminalReport = (result: BenchResult): string =>
  [
    '',
    `Machine: ${machineLine(result)}`,
    ...settingsLines(result),
    '',
    'One client, sequential (ms; ratios of p50s):',
    plainTable(headlineTable(result)),
    '',
    ...costLines(
      result,
      plainTable,
      'Cost and CPU per command (each runner alone; units per command, R read, W write):',
    ).filter((line, i) => i !== 1),
    ...visibilityLines(
      result,
      plainTable,
      'True visibility (independent observer reading the row) beside ?minVersion (ms):',
    ).filter((line, i) => i !== 1),
    ...(result.client
      ? [
          'Client-visible latency (dispatch -> the store shows the version; ms):',
          plainTable(clientTable(result)),
          '',
        ]
      : []),
    ...(result.push
      ? [
          'Push latency (A dispatches -> B’s store shows it; fan-out: until the last subscriber; ms):',
          plainTable(pushTable(result)),
          '',
        ]
      : []),
    ...workflowLines(
      result,
      plainTable,
      'Workflow: order submitted -> confirmed (order/submit sent -> a GET shows it confirmed; ms):',
    ).filter((line, i) => i !== 1),
    ...tokenVerificationLines(
      result,
      plainTable,
      'Token verification (one check, as every gateway makes it per request; µs):',
    ).filter((line, i) => i !== 1),
    ...(result.indexCost
      ? [
          `Write units per event of the order row (${indexCostSides(result).before} -> ${indexCostSides(result).after}, same rows):`,
          plainTable(indexCostTable(result)),
          '',
        ]
      : []),
    'Concurrency:',
    plainTable(concurrencyTable(result)),
    '',
    `Contention (${result.contention.clients} clients on one order):`,
    plainTable(contentionTable(result)),
    '',
    'History length:',
    plainTable(historyTable(result)),
    '',
  ].join('\n');
