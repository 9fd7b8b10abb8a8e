import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.js';
import { seededRandom } from './mix.js';

/** Nearest-rank percentile of a sample, the definition the histogram approximates. */
function exact(sorted: readonly number[], p: number): number {
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

describe('Histogram', () => {
  it('is exact below 2 ms: every microsecond has its own bucket', () => {
    const h = new Histogram();
    for (let i = 1; i <= 100; i++) h.record(i / 100); // 0.01 .. 1.00 ms
    expect(h.count).toBe(100);
    expect(h.percentile(50)).toBe(0.5);
    expect(h.percentile(90)).toBe(0.9);
    expect(h.percentile(99)).toBe(0.99);
    expect(h.percentile(100)).toBe(1);
    expect(h.mean).toBeCloseTo(0.505, 6);
  });

  it('stays within 0.1 % of the exact nearest-rank percentile over six orders of magnitude', () => {
    const random = seededRandom(42);
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      // Log-uniform from 1 µs to 10 s, the spread real latencies have.
      const ms = 10 ** (random() * 7 - 3);
      const us = Math.round(ms * 1_000) / 1_000;
      values.push(us);
      h.record(us);
    }
    values.sort((a, b) => a - b);
    for (const p of [1, 25, 50, 90, 99, 99.9, 100]) {
      const truth = exact(values, p);
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(truth);
      expect(got).toBeLessThanOrEqual(truth * 1.001 + 0.001);
    }
    expect(h.maximum).toBe(values.at(-1));
  });

  it('finds the tail: one slow request in a hundred is the p99, not the p98', () => {
    const h = new Histogram();
    for (let i = 0; i < 99; i++) h.record(2);
    h.record(500);
    expect(h.percentile(99)).toBe(2);
    expect(h.percentile(99.5)).toBe(500);
    expect(h.percentile(100)).toBe(500);
  });

  it('merges: the union of two histograms has the percentiles of the union of their values', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 50; i++) a.record(i);
    for (let i = 51; i <= 100; i++) b.record(i);
    const merged = Histogram.merge([a, b]);
    expect(merged.count).toBe(100);
    expect(merged.percentile(50)).toBeCloseTo(50, 1);
    expect(merged.percentile(100)).toBe(100);
    expect(merged.mean).toBeCloseTo(50.5, 6);
  });

  it('answers 0 when empty, and rejects what is not a latency or a percentile', () => {
    const h = new Histogram();
    expect(h.percentile(99)).toBe(0);
    expect(h.mean).toBe(0);
    expect(() => h.record(-1)).toThrow(/latency must be a finite number >= 0, got -1/);
    expect(() => h.record(Number.NaN)).toThrow(/latency/);
    expect(() => h.percentile(0)).toThrow(/percentile must be in \(0, 100\], got 0/);
    expect(() => h.percentile(101)).toThrow(/percentile/);
  });
});
