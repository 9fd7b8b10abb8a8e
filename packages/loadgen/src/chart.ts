import type { CompareResult } from './compare.js';

/** One panel of the chart: a few labelled bars on a common scale from 0. */
export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly color: string }[];
}

const MONOLITH = '#4e79a7';
const SERVICES = '#f28e2b';
const WIDTH = 250;
const HEIGHT = 210;
const COLUMNS = 4;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function formatValue(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function panel(p: Panel, x: number, y: number): string {
  const top = y + 40;
  const bottom = y + HEIGHT - 40;
  const max = Math.max(...p.bars.map((b) => b.value), Number.MIN_VALUE);
  const slot = (WIDTH - 40) / p.bars.length;
  const bars = p.bars.map((b, i) => {
    const h = ((bottom - top) * b.value) / max;
    const bx = x + 20 + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    return [
      `<rect x="${bx.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`,
      `<text x="${(bx + bw / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle" font-size="11">${escape(formatValue(b.value))}</text>`,
      `<text x="${(bx + bw / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="10">${escape(b.label)}</text>`,
    ].join('');
  });
  return [
    `<g>`,
    `<text x="${x + WIDTH / 2}" y="${y + 18}" text-anchor="middle" font-size="12" font-weight="bold">${escape(p.title)}</text>`,
    `<text x="${x + WIDTH / 2}" y="${y + 32}" text-anchor="middle" font-size="10" fill="#555">${escape(p.unit)}</text>`,
    `<line x1="${x + 15}" y1="${bottom}" x2="${x + WIDTH - 15}" y2="${bottom}" stroke="#999"/>`,
    ...bars,
    `</g>`,
  ].join('');
}

/** Panels in a grid, as a standalone SVG document; no dependencies, readable in any browser or Markdown viewer. */
export function renderChart(title: string, panels: readonly Panel[]): string {
  const rows = Math.ceil(panels.length / COLUMNS);
  const width = WIDTH * COLUMNS;
  const height = 40 + rows * HEIGHT;
  const body = panels.map((p, i) => panel(p, (i % COLUMNS) * WIDTH, 40 + Math.floor(i / COLUMNS) * HEIGHT));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}

/** The comparison's figures as panels: each shape side by side, then webtoon at 1 and 2 replicas. */
export function comparePanels(result: CompareResult): Panel[] {
  const pair = (title: string, unit: string, get: (shape: CompareResult['monolith']) => number): Panel => ({
    title,
    unit,
    bars: [
      { label: 'monolith', value: get(result.monolith), color: MONOLITH },
      { label: 'services', value: get(result.services), color: SERVICES },
    ],
  });
  const [one, two] = result.scaling.runs;
  const scaled = (title: string, unit: string, get: (run: NonNullable<typeof one>) => number): Panel => ({
    title,
    unit,
    bars: [one, two].flatMap((run) => (run ? [{ label: `webtoon x${run.replicas}`, value: get(run), color: SERVICES }] : [])),
  });
  return [
    pair('Throughput (capacity)', `requests/s, ${result.size.capacity.concurrency} in flight`, (s) => s.capacity.rps),
    pair('Latency p50', `ms at ${result.size.latency.rate} requests/s`, (s) => s.latency.p50),
    pair('Latency p99', `ms at ${result.size.latency.rate} requests/s`, (s) => s.latency.p99),
    pair('Memory', result.mode === 'container' ? 'MiB, every container (docker stats), peak' : 'MiB RSS, all processes, peak', (s) => s.memory.peakBytes / 1_048_576),
    pair('Start-up to ready', 's', (s) => s.startupMs / 1_000),
    pair('Payment crash', '% of other requests failed', (s) => s.failure.window.share * 100),
    scaled('Scaling: webtoon', 'requests/s of webtoon routes', (r) => r.webtoon.rps),
    scaled('Scaling: webtoon p99', 'ms', (r) => r.webtoon.p99),
  ];
}
