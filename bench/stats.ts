/** Percentiles and summaries of latency samples (milliseconds). */

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Nearest-rank percentile of an ascending array: the smallest sample with at least p% of the
 * samples at or below it. Always one of the samples, and monotone in p (p50 <= p95 <= p99 <= max).
 */
export const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
};

const round = (value: number, digits = 3) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Count, min, mean, p50, p95, p99 and max; `null` without samples. */
export const summarize = (samples: readonly number[]): Summary | null => {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: round(sorted[0]!),
    mean: round(sum / sorted.length),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
  };
};

/** a / b, or null when either is missing or b is not positive. */
export const ratio = (a: number | undefined | null, b: number | undefined | null): number | null =>
  a === undefined || a === null || b === undefined || b === null || !(b > 0)
    ? null
    : round(a / b, 3);

/** Commands per second for `count` commands in `durationMs`. */
export const throughput = (count: number, durationMs: number): number =>
  durationMs > 0 ? round((count * 1000) / durationMs, 2) : 0;

/** The items of `items` rotated left by `by` (so each one goes first in turn). */
export const rotate = <T>(items: readonly T[], by: number): T[] => {
  if (items.length === 0) return [];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
};
