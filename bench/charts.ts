/**
 * SVG charts with vega-lite: the latency distribution (ECDF on a log axis) and latency
 * against history length. vega and vega-lite are ES modules (with top-level await), so they
 * are loaded with a dynamic import.
 */
// vega-lite's package only exposes its types through `exports`, which this project's
// moduleResolution (node10) does not read: the types come from the file itself.
import type { TopLevelSpec } from 'vega-lite/build/index';
import type { BenchResult } from './results';

/** Short series names, and one colour per series in both charts. */
const SERIES: Record<string, { label: string; color: string }> = {
  coupled: { label: 'coupled', color: '#1f77b4' },
  'decoupled-250ms': { label: 'decoupled-250ms', color: '#d62728' },
  'decoupled-10ms': { label: 'decoupled-10ms', color: '#ff7f0e' },
  decoupled: { label: 'decoupled', color: '#d62728' },
  'floor-decoupled': { label: 'floor: decoupled', color: '#7f7f7f' },
  'floor-coupled': { label: 'floor: coupled', color: '#2ca02c' },
};

const label = (name: string) => SERIES[name]?.label ?? name;

/** The colour scale for the series present in `names`. */
const colorScale = (names: readonly string[]) => {
  const known = names.filter((n) => SERIES[n] !== undefined);
  return {
    domain: known.map((n) => SERIES[n]!.label),
    range: known.map((n) => SERIES[n]!.color),
  };
};

/** The colour channel both charts share: one colour per runner, in the run's order. */
const seriesColor = (result: BenchResult) => ({
  field: 'series',
  type: 'nominal' as const,
  title: null,
  scale: colorScale(result.settings.runners.map((r) => r.name)),
  legend: { labelLimit: 240 },
});

/** A log-scale domain around the values, a little wider on both sides. */
export const logDomain = (values: readonly number[]): [number, number] => {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return [1, 10];
  return [Math.min(...positive) / 1.25, Math.max(...positive) * 1.25];
};

const KIND_DASH = {
  domain: ['profile (HTTP + framework)', 'floor (plain SDK)'],
  range: [
    [1, 0],
    [5, 3],
  ],
};

const VEGA_LITE = 'vega-lite';

export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const vl = (await import(VEGA_LITE)) as typeof import('vega-lite/build/index');
  const vega = await import('vega');
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/** Cumulative fraction of samples at or below each sample. */
export const ecdf = (samples: readonly number[]): { ms: number; fraction: number }[] => {
  const sorted = [...samples].filter((v) => v > 0).sort((a, b) => a - b);
  return sorted.map((ms, i) => ({ ms, fraction: (i + 1) / sorted.length }));
};

const COMMON = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: { font: 'sans-serif', view: { stroke: '#ddd' } },
} as const;

/** ECDF of ack and visible latency per profile (and floor), one panel per concurrency level. */
export const distributionSpec = (result: BenchResult): TopLevelSpec => {
  const values = result.raw.concurrency.flatMap((level) =>
    Object.entries(level.runners).flatMap(([name, samples]) =>
      (['ack', 'visible'] as const).flatMap((metric) =>
        ecdf(samples[metric]).map((point) => ({
          clients: `${level.clients} client${level.clients === 1 ? '' : 's'}`,
          order: level.clients,
          metric: metric === 'ack' ? 'ack latency' : 'visible latency',
          series: label(name),
          floor: name.startsWith('floor-') ? 'floor (plain SDK)' : 'profile (HTTP + framework)',
          ...point,
        })),
      ),
    ),
  );
  return {
    ...COMMON,
    title: {
      text: 'Latency distribution (ECDF), per concurrency level',
      subtitle: `${result.mode} run of ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC; ack = request to answer, visible = request to read-model row at that version`,
    },
    data: { values },
    facet: {
      row: {
        field: 'clients',
        type: 'nominal',
        sort: { field: 'order' },
        title: null,
      },
      column: {
        field: 'metric',
        type: 'nominal',
        sort: ['ack latency', 'visible latency'],
        title: null,
      },
    },
    spec: {
      width: 380,
      height: 170,
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
      encoding: {
        x: {
          field: 'ms',
          type: 'quantitative',
          scale: { type: 'log', nice: false, domain: logDomain(values.map((v) => v.ms)) },
          title: 'latency (ms, log scale)',
        },
        y: {
          field: 'fraction',
          type: 'quantitative',
          title: 'share of commands ≤ x',
          scale: { domain: [0, 1] },
        },
        color: seriesColor(result),
        strokeDash: {
          field: 'floor',
          type: 'nominal',
          title: null,
          scale: KIND_DASH,
          legend: { labelLimit: 240, symbolType: 'stroke' },
        },
      },
    },
    resolve: { scale: { x: 'shared' } },
  };
};

/** p50 and p95 latency against the number of events before the command (log x-axis). */
export const historySpec = (result: BenchResult): TopLevelSpec => {
  const values = result.history.flatMap((entry) =>
    Object.entries(entry.runners).flatMap(([name, figures]) =>
      (['ack', 'visible'] as const).flatMap((metric) => {
        const summary = figures[metric];
        if (!summary) return [];
        return (['p50', 'p95'] as const).map((stat) => ({
          length: entry.length,
          metric: metric === 'ack' ? 'ack latency' : 'visible latency',
          series: label(name),
          stat,
          ms: summary[stat],
        }));
      }),
    ),
  );
  return {
    ...COMMON,
    title: {
      text: 'Command latency against history length',
      subtitle: 'events already in the order before the command; solid p50, dashed p95',
    },
    data: { values },
    facet: {
      column: {
        field: 'metric',
        type: 'nominal',
        sort: ['ack latency', 'visible latency'],
        title: null,
      },
    },
    spec: {
      width: 380,
      height: 280,
      mark: { type: 'line', point: true, strokeWidth: 1.6 },
      encoding: {
        x: {
          field: 'length',
          type: 'quantitative',
          scale: {
            type: 'log',
            nice: false,
            domain: [
              Math.min(...result.history.map((h) => h.length)) / 1.3,
              Math.max(...result.history.map((h) => h.length)) * 1.3,
            ],
          },
          axis: { values: result.history.map((h) => h.length) },
          title: 'events before the command (log scale)',
        },
        y: {
          field: 'ms',
          type: 'quantitative',
          scale: { type: 'log', nice: false, domain: logDomain(values.map((v) => v.ms)) },
          title: 'latency (ms, log scale)',
        },
        color: seriesColor(result),
        strokeDash: {
          field: 'stat',
          type: 'nominal',
          title: null,
          scale: {
            domain: ['p50', 'p95'],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
          legend: null,
        },
      },
    },
  };
};
