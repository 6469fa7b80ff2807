/** The benchmark's maths: nearest-rank percentiles, summaries, ratios, turn sizes, rotation. */
import { ratiosOf, type RunnerFigures } from '../../bench/results';
import { turnSizes } from '../../bench/settings';
import { percentile, ratio, rotate, summarize, throughput } from '../../bench/stats';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  test('of 1..100 is the rank itself', () => {
    const sorted = oneTo(100);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
  });

  test('of 1..10: p50 is the 5th, p95 and p99 the 10th sample', () => {
    const sorted = oneTo(10);
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 99)).toBe(10);
  });

  test('of one sample is that sample', () => {
    expect(percentile([7.5], 50)).toBe(7.5);
    expect(percentile([7.5], 99)).toBe(7.5);
  });

  test('is always one of the samples, and never decreases with p', () => {
    const sorted = [0.4, 1.2, 1.3, 8, 8, 9.1, 20, 250].sort((a, b) => a - b);
    let previous = -Infinity;
    for (let p = 1; p <= 100; p++) {
      const value = percentile(sorted, p);
      expect(sorted).toContain(value);
      expect(value).toBeGreaterThanOrEqual(previous);
      previous = value;
    }
  });

  test('refuses no samples and p outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  test('orders the samples itself and gives count, min, mean and the percentiles', () => {
    const summary = summarize([5, 1, 4, 2, 3]);
    expect(summary).toEqual({ count: 5, min: 1, mean: 3, p50: 3, p95: 5, p99: 5, max: 5 });
  });

  test('p50 <= p95 <= p99 <= max for any samples', () => {
    const samples = Array.from({ length: 257 }, (_, i) => ((i * 7919) % 1000) / 7 + 0.01);
    const s = summarize(samples)!;
    expect(s.count).toBe(257);
    expect(s.min).toBeLessThanOrEqual(s.p50);
    expect(s.p50).toBeLessThanOrEqual(s.p95);
    expect(s.p95).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
  });

  test('is null without samples', () => {
    expect(summarize([])).toBeNull();
  });
});

describe('ratio and throughput', () => {
  test('ratio divides, and is null when a side is missing or the divisor not positive', () => {
    expect(ratio(30, 10)).toBe(3);
    expect(ratio(1, 3)).toBe(0.333);
    expect(ratio(null, 10)).toBeNull();
    expect(ratio(10, undefined)).toBeNull();
    expect(ratio(10, 0)).toBeNull();
  });

  test('throughput is commands per second', () => {
    expect(throughput(50, 2000)).toBe(25);
    expect(throughput(10, 0)).toBe(0);
  });
});

describe('interleaving', () => {
  test('rotate lets each item go first in turn', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 5)).toEqual(['c', 'a', 'b']);
    expect(rotate([], 3)).toEqual([]);
  });

  test('turn sizes add up to the commands per client', () => {
    expect(turnSizes({ clients: 1, commandsPerClient: 60, rounds: 60 })).toEqual(
      Array.from({ length: 60 }, () => 1),
    );
    expect(turnSizes({ clients: 4, commandsPerClient: 10, rounds: 4 })).toEqual([2, 2, 2, 4]);
    expect(turnSizes({ clients: 64, commandsPerClient: 1, rounds: 3 })).toEqual([1]);
  });
});

describe('ratiosOf', () => {
  const figures = (ackP50: number, visibleP50: number): RunnerFigures => {
    const s = (p50: number) => ({
      count: 1,
      min: p50,
      mean: p50,
      p50,
      p95: p50,
      p99: p50,
      max: p50,
    });
    return {
      samples: 1,
      errors: 0,
      errorCodes: {},
      durationMs: 1,
      throughput: 1,
      ack: s(ackP50),
      visible: s(visibleP50),
    };
  };

  test('relates each profile to its own floor, and decoupled profiles to coupled', () => {
    const ratios = ratiosOf(
      [
        { name: 'coupled', kind: 'coupled' },
        { name: 'decoupled-250ms', kind: 'decoupled' },
        { name: 'floor-decoupled', kind: 'floor-decoupled' },
        { name: 'floor-coupled', kind: 'floor-coupled' },
      ],
      {
        coupled: figures(20, 20),
        'decoupled-250ms': figures(15, 200),
        'floor-decoupled': figures(10, 25),
        'floor-coupled': figures(16, 16),
      },
    );
    expect(ratios.coupled).toEqual({
      ackToFloor: 1.25,
      visibleToFloor: 1.25,
      ackToCoupled: null,
      visibleToCoupled: null,
    });
    expect(ratios['decoupled-250ms']).toEqual({
      ackToFloor: 1.5,
      visibleToFloor: 8,
      ackToCoupled: 0.75,
      visibleToCoupled: 10,
    });
    expect(ratios['floor-decoupled']).toBeUndefined();
  });

  test('without a floor the floor ratios are null', () => {
    const ratios = ratiosOf([{ name: 'coupled', kind: 'coupled' }], { coupled: figures(20, 20) });
    expect(ratios.coupled?.ackToFloor).toBeNull();
  });
});
