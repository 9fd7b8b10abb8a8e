import { describe, expect, it } from 'vitest';
import { atLeast, atMost, goalLine } from './load.ts';

describe('goalLine', () => {
  it('prints the ratio beside its goal and whether it was met', () => {
    expect(goalLine('gateway/nginx throughput', 0.553, atLeast(0.5))).toBe('gateway/nginx throughput: 0.55 x (goal >= 0.5 x: met)');
    expect(goalLine('gateway/nginx throughput', 0.41, atLeast(0.5))).toBe('gateway/nginx throughput: 0.41 x (goal >= 0.5 x: missed)');
    expect(goalLine('gateway/nginx p99', 2.5, atMost(2))).toBe('gateway/nginx p99: 2.50 x (goal <= 2 x: missed)');
  });

  it('counts failed requests as a miss, whatever the ratio', () => {
    expect(goalLine('webtoon / bare', 0.9, atLeast(0.5), 12)).toBe('webtoon / bare: 0.90 x (goal >= 0.5 x: missed, 12 requests failed)');
  });

  it('says why a goal was not measured', () => {
    expect(goalLine('gateway/nginx p99', undefined, atMost(2), 0, 'nginx not installed')).toBe('gateway/nginx p99: nginx not installed (goal <= 2 x: not measured)');
    expect(goalLine('webtoon / bare', Number.NaN, atLeast(0.5))).toBe('webtoon / bare: not measured (goal >= 0.5 x: not measured)');
  });
});
