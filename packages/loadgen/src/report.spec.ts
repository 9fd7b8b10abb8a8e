import { describe, expect, it } from 'vitest';
import { comparePanels, renderChart } from './chart.js';
import { SIZES } from './compare.js';
import type { CompareResult, Figures, ShapeResult } from './compare.js';
import { missingFigures, renderMarkdown } from './report.js';

const figures = (rps: number): Figures => ({ requests: rps * 4, errors: 0, rps, p50: 2, p90: 5, p99: 9, max: 20 });
const shape = (name: 'monolith' | 'services', parts: string[]): ShapeResult => ({
  shape: name,
  parts,
  startupMs: 4_000,
  imageBytes: null,
  memory: { idleBytes: 300 * 2 ** 20, peakBytes: 350 * 2 ** 20 },
  capacity: { ...figures(900), concurrency: 16, seconds: 4 },
  latency: { ...figures(60), rate: 60, seconds: 5, targetReached: true, routes: [{ route: 'GET /api/news/articles', ...figures(6) }] },
  failure: {
    rate: 50,
    crashAfterMs: 120,
    windowSeconds: 3.8,
    before: { requests: 100, failed: 0, share: 0 },
    window: name === 'monolith' ? { requests: 190, failed: 190, share: 1 } : { requests: 190, failed: 0, share: 0 },
    payment: { requests: 18, failed: 18, share: 1 },
  },
});
const RESULT: CompareResult = {
  mode: 'process',
  size: SIZES.ci,
  monolith: shape('monolith', ['monolith']),
  services: shape('services', ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics', 'gateway']),
  scaling: {
    mix: 'webtoon-heavy',
    concurrency: 16,
    seconds: 4,
    runs: [
      { replicas: 1, webtoon: figures(700), rest: figures(80) },
      { replicas: 2, webtoon: figures(800), rest: figures(90) },
    ],
  },
};
const META = { date: '2026-11-25 22:00 UTC', command: 'npm run compare -- --size ci', commit: 'abc', machine: '2 cores', bus: 'in process', chartFile: 'compare.svg' };

describe('the comparison report', () => {
  it('finds nothing missing in a complete result', () => {
    expect(missingFigures(RESULT)).toEqual([]);
  });

  it('names every figure that is missing, zero where it cannot be, or inconsistent', () => {
    const broken: CompareResult = {
      ...RESULT,
      monolith: { ...RESULT.monolith, startupMs: 0, imageBytes: 5, capacity: { ...RESULT.monolith.capacity, p99: 1 } },
      services: {
        ...RESULT.services,
        memory: { idleBytes: Number.NaN, peakBytes: 1 },
        failure: { ...RESULT.services.failure, payment: { requests: 18, failed: 0, share: 0 } },
      },
      scaling: { ...RESULT.scaling, runs: [RESULT.scaling.runs[0] as CompareResult['scaling']['runs'][number]] },
    };
    const problems = missingFigures(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        'monolith.startupMs is 0, expected a number > 0',
        'monolith.imageBytes is 5: expected null (n/a in process mode)',
        'monolith.capacity: p99 1 is below p50 2',
        'services.memory.idleBytes is NaN, expected a number > 0',
        'services.failure.payment.failed is 0, expected a number > 0',
        'scaling.runs: expected webtoon at 1 and 2 replicas, got [1]',
      ]),
    );
  });

  it('renders every section, the failure shares and image size n/a in process mode', () => {
    const markdown = renderMarkdown(RESULT, META);
    for (const heading of ['## Side by side', '## Failure isolation', '## Scaling webtoon alone', '## Per route']) expect(markdown).toContain(heading);
    expect(markdown).toMatch(/\| image size \| n\/a \(process mode\) \| n\/a \(process mode\) \|/);
    expect(markdown).toMatch(/\*\*non-payment requests failed in the window\*\* \| \*\*100\.0 %\*\* \(190 of 190\) \| \*\*0\.0 %\*\* \(0 of 190\) \|/);
    expect(markdown).toContain('Webtoon throughput at 2 replicas: 1.14 x that at 1.');
    expect(markdown).toContain('![the figures below as bars](compare.svg)');
    expect(markdown).toContain('Produced by `npm run compare -- --size ci`');
  });

  it('draws a bar per shape per figure, scaled to the panel, in a well-formed SVG', () => {
    const panels = comparePanels(RESULT);
    expect(panels.map((p) => p.title)).toEqual([
      'Throughput (capacity)',
      'Latency p50',
      'Latency p99',
      'Memory',
      'Start-up to ready',
      'Payment crash',
      'Scaling: webtoon',
      'Scaling: webtoon p99',
    ]);
    expect(panels[5]?.bars.map((b) => b.value)).toEqual([100, 0]);
    const svg = renderChart('A <title> & more', panels);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('A &lt;title&gt; &amp; more');
    expect(svg.match(/<rect /g)).toHaveLength(1 + 16);
    // Every element opened is closed: <g> groups, and no stray '<' in text.
    expect(svg.match(/<g>/g)?.length).toBe(svg.match(/<\/g>/g)?.length);
    expect(svg.replace(/<[^>]+>/g, '')).not.toMatch(/[<>]/);
    // The tallest bar of a panel spans the panel's plot height (130 px); the others are to scale.
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights.slice(0, 2)).toEqual([130, 130]);
    expect(heights.slice(10, 12)).toEqual([130, 0]);
    expect(heights.slice(12, 14)).toEqual([113.8, 130]);
  });
});

describe('the comparison report in container mode', () => {
  const containers: CompareResult = {
    ...RESULT,
    mode: 'container',
    monolith: { ...RESULT.monolith, parts: ['monolith', 'postgres'], imageBytes: 300 * 1_048_576 },
    services: { ...RESULT.services, imageBytes: 2_400 * 1_048_576 },
  };

  it('wants image sizes, and counts the monolith database as a part of its shape', () => {
    expect(missingFigures(containers)).toEqual([]);
    expect(missingFigures({ ...containers, monolith: { ...containers.monolith, imageBytes: null } })).toContain(
      'monolith.imageBytes is null: expected a size > 0',
    );
    expect(missingFigures({ ...containers, monolith: { ...containers.monolith, parts: ['postgres'] } })).toContain(
      'monolith.parts: expected one monolith, got [postgres]',
    );
  });

  it('prints image sizes and names containers', () => {
    const markdown = renderMarkdown(containers, META);
    expect(markdown).toContain("| image size (every container's image, shared layers once) | 300 MiB | 2400 MiB |");
    expect(markdown).toMatch(/\| containers \| 2 \(monolith, postgres\) \|/);
    expect(markdown).toContain('docker stats');
    expect(markdown).not.toContain('n/a');
  });
});
