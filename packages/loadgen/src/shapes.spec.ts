import { describe, expect, it } from 'vitest';
import { checkShape, dueBy, rateAt } from './shapes.js';

describe('load shapes', () => {
  it('steady: the same rate throughout, and exactly rate x seconds requests', () => {
    const shape = { kind: 'steady', seconds: 10, rate: 50 } as const;
    expect(rateAt(shape, 0)).toBe(50);
    expect(rateAt(shape, 9.99)).toBe(50);
    expect(rateAt(shape, 10)).toBe(0);
    expect(dueBy(shape, 2.5)).toBe(125);
    expect(dueBy(shape, 10)).toBe(500);
    expect(dueBy(shape, 60)).toBe(500);
  });

  it('step: equal steps from one rate to the other', () => {
    const shape = { kind: 'step', seconds: 40, from: 100, to: 400, steps: 4 } as const;
    expect([5, 15, 25, 35].map((t) => rateAt(shape, t))).toEqual([100, 200, 300, 400]);
    expect(dueBy(shape, 10)).toBe(1_000);
    expect(dueBy(shape, 15)).toBe(1_000 + 1_000);
    expect(dueBy(shape, 40)).toBe(10 * (100 + 200 + 300 + 400));
  });

  it('spike: the base rate, the peak for its length, then the base again', () => {
    const shape = { kind: 'spike', seconds: 30, rate: 20, peak: 200, at: 10, spikeSeconds: 5 } as const;
    expect(rateAt(shape, 9.9)).toBe(20);
    expect(rateAt(shape, 10)).toBe(200);
    expect(rateAt(shape, 14.9)).toBe(200);
    expect(rateAt(shape, 15)).toBe(20);
    expect(dueBy(shape, 10)).toBe(200);
    expect(dueBy(shape, 12)).toBe(200 + 400);
    expect(dueBy(shape, 30)).toBe(25 * 20 + 5 * 200);
  });

  it('dueBy is the integral of rateAt: summed over small slices they agree', () => {
    const shapes = [
      { kind: 'steady', seconds: 7, rate: 33 },
      { kind: 'step', seconds: 9, from: 10, to: 70, steps: 3 },
      { kind: 'spike', seconds: 12, rate: 5, peak: 80, at: 3, spikeSeconds: 2 },
    ] as const;
    for (const shape of shapes) {
      let sum = 0;
      for (let t = 0; t < shape.seconds; t += 0.001) sum += rateAt(shape, t + 0.0005) * 0.001;
      expect(dueBy(shape, shape.seconds)).toBeCloseTo(sum, 3);
    }
  });

  it('rejects a bad shape with the field it is about', () => {
    expect(() => checkShape({ kind: 'steady', seconds: 0, rate: 1 })).toThrow(/seconds must be a number > 0, got 0/);
    expect(() => checkShape({ kind: 'steady', seconds: 1, rate: -5 })).toThrow(/rate must be a number > 0, got -5/);
    expect(() => checkShape({ kind: 'step', seconds: 1, from: 1, to: 2, steps: 1 })).toThrow(/steps must be a whole number >= 2/);
    expect(() => checkShape({ kind: 'spike', seconds: 10, rate: 1, peak: 5, at: 8, spikeSeconds: 5 })).toThrow(/at must be >= 0 and the spike must end within the run/);
    expect(() => checkShape({ kind: 'closed', seconds: 1, concurrency: 0.5 })).toThrow(/concurrency must be a whole number >= 1/);
  });
});
