import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePanels, renderChart } from './chart.js';
import type { CompareResult, Figures, ShapeResult } from './compare.js';

export interface ReportMeta {
  readonly date: string;
  readonly command: string;
  readonly commit: string;
  readonly machine: string;
  readonly bus: string;
  readonly chartFile: string;
}

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MiB`;
const ms = (value: number) => `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ms`;
const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const rps = (value: number) => value.toFixed(0);

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function tableOf(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

const image = (s: ShapeResult, mode: string) => (s.imageBytes === null ? `n/a (${mode} mode)` : mib(s.imageBytes));

/** The report as Markdown: the side-by-side table, the two experiments, per-route latency, and the chart. */
export function renderMarkdown(result: CompareResult, meta: ReportMeta): string {
  const { monolith: m, services: s, size } = result;
  const both = (label: string, get: (shape: ShapeResult) => string) => [label, get(m), get(s)];
  const [one, two] = result.scaling.runs;
  const scalingRows = result.scaling.runs.map((r) => [
    String(r.replicas),
    rps(r.webtoon.rps),
    ms(r.webtoon.p50),
    ms(r.webtoon.p99),
    rps(r.rest.rps),
    ms(r.rest.p50),
    ms(r.rest.p99),
    String(r.webtoon.errors + r.rest.errors),
  ]);
  const routeRows = m.latency.routes.map((mr) => {
    const sr = s.latency.routes.find((r) => r.route === mr.route);
    return [`\`${mr.route}\``, String(mr.requests), ms(mr.p50), ms(mr.p99), String(mr.errors), sr ? ms(sr.p50) : '-', sr ? ms(sr.p99) : '-', sr ? String(sr.errors) : '-'];
  });
  const errors = (f: Figures) => `${f.errors} of ${f.requests}`;
  const containers = result.mode === 'container';
  const memoryOf = containers ? 'docker stats, every container of the shape' : 'RSS, all processes';
  return [
    '# Monolith versus services, measured',
    '',
    `${meta.date}, ${result.mode} mode, size \`${size.name}\`, commit \`${meta.commit}\`; ${meta.machine}; events: ${meta.bus}.`,
    `Produced by \`${meta.command}\`. What each figure means: [docs/compare.md](../compare.md).`,
    '',
    `![the figures below as bars](${meta.chartFile})`,
    '',
    '## Side by side',
    '',
    tableOf(
      ['figure', 'monolith', 'services'],
      [
        both(`throughput, capacity (requests/s, ${size.capacity.concurrency} in flight, portal mix, ${size.capacity.seconds} s)`, (x) => rps(x.capacity.rps)),
        both('p50 / p99 at capacity', (x) => `${ms(x.capacity.p50)} / ${ms(x.capacity.p99)}`),
        both(`p50 latency at ${size.latency.rate} requests/s (${size.latency.seconds} s)`, (x) => ms(x.latency.p50)),
        both(`p99 latency at ${size.latency.rate} requests/s`, (x) => ms(x.latency.p99)),
        both('target rate reached', (x) => (x.latency.targetReached ? 'yes' : 'NO')),
        both('errors (capacity run; latency run)', (x) => `${errors(x.capacity)}; ${errors(x.latency)}`),
        both(`memory, idle after start (${memoryOf})`, (x) => mib(x.memory.idleBytes)),
        both('memory, peak under load', (x) => mib(x.memory.peakBytes)),
        both(containers ? 'containers' : 'processes', (x) => `${x.parts.length} (${x.parts.join(', ')})`),
        both('start-up to ready', (x) => `${(x.startupMs / 1_000).toFixed(1)} s`),
        both(containers ? "image size (every container's image, shared layers once)" : 'image size', (x) => image(x, result.mode)),
      ],
    ),
    '',
    '## Failure isolation: payment crashes under load',
    '',
    `A steady ${size.failure.rate} requests/s of the portal mix without payments; ${size.failure.preSeconds} s in, one payment sets off ` +
      '`FAULT_INJECTION=crash-in-payment` in whatever hosts the payment module (SIGKILL). The window runs from the crash to the end of the load.',
    '',
    tableOf(
      ['', 'monolith', 'services'],
      [
        both('what died', (x) => (x.shape === 'monolith' ? `the monolith${containers ? ' container' : ''} (every module)` : `the payment service${containers ? ' container' : ''}`)),
        both('crash after the trigger payment', (x) => ms(x.failure.crashAfterMs)),
        both('window', (x) => `${x.failure.windowSeconds.toFixed(1)} s`),
        both('**non-payment requests failed in the window**', (x) => `**${pct(x.failure.window.share)}** (${x.failure.window.failed} of ${x.failure.window.requests})`),
        both('non-payment requests failed before the crash', (x) => `${pct(x.failure.before.share)} (${x.failure.before.failed} of ${x.failure.before.requests})`),
        both('payment requests failed in the window', (x) => `${pct(x.failure.payment.share)} (${x.failure.payment.failed} of ${x.failure.payment.requests})`),
      ],
    ),
    '',
    '## Scaling webtoon alone (services)',
    '',
    `The webtoon-heavy mix, ${result.scaling.concurrency} in flight for ${result.scaling.seconds} s, with webtoon at 1 and at 2 replicas ` +
      `behind the gateway (${containers ? "Docker's DNS, `--scale webtoon=2`" : 'static discovery'}); every other service stays at one.`,
    '',
    tableOf(['webtoon replicas', 'webtoon req/s', 'webtoon p50', 'webtoon p99', 'rest req/s', 'rest p50', 'rest p99', 'errors'], scalingRows),
    '',
    one && two ? `Webtoon throughput at 2 replicas: ${(two.webtoon.rps / one.webtoon.rps).toFixed(2)} x that at 1.` : '',
    '',
    `## Per route, at ${size.latency.rate} requests/s`,
    '',
    tableOf(['route', 'requests (monolith)', 'monolith p50', 'monolith p99', 'monolith errors', 'services p50', 'services p99', 'services errors'], routeRows),
    '',
  ].join('\n');
}

/**
 * Every figure the report must have, present and non-zero where a real run
 * cannot give zero; the list of what is wrong (empty: complete).
 */
export function missingFigures(result: CompareResult): string[] {
  const problems: string[] = [];
  const positive = (path: string, value: number | null | undefined) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${path} is ${String(value)}, expected a number > 0`);
  };
  const finite = (path: string, value: number | null | undefined) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) problems.push(`${path} is ${String(value)}, expected a number >= 0`);
  };
  const figures = (path: string, f: Figures) => {
    positive(`${path}.requests`, f.requests);
    positive(`${path}.rps`, f.rps);
    positive(`${path}.p50`, f.p50);
    positive(`${path}.p99`, f.p99);
    finite(`${path}.errors`, f.errors);
    if (f.p99 < f.p50) problems.push(`${path}: p99 ${f.p99} is below p50 ${f.p50}`);
  };
  for (const shape of [result.monolith, result.services]) {
    const at = shape.shape;
    positive(`${at}.startupMs`, shape.startupMs);
    positive(`${at}.memory.idleBytes`, shape.memory.idleBytes);
    positive(`${at}.memory.peakBytes`, shape.memory.peakBytes);
    if (shape.parts.length === 0) problems.push(`${at}.parts is empty`);
    if (result.mode === 'process' ? shape.imageBytes !== null : !(typeof shape.imageBytes === 'number' && shape.imageBytes > 0)) {
      problems.push(`${at}.imageBytes is ${String(shape.imageBytes)}: expected ${result.mode === 'process' ? 'null (n/a in process mode)' : 'a size > 0'}`);
    }
    figures(`${at}.capacity`, shape.capacity);
    figures(`${at}.latency`, shape.latency);
    for (const route of shape.latency.routes) positive(`${at}.latency.routes[${route.route}].requests`, route.requests);
    positive(`${at}.failure.windowSeconds`, shape.failure.windowSeconds);
    finite(`${at}.failure.crashAfterMs`, shape.failure.crashAfterMs);
    positive(`${at}.failure.before.requests`, shape.failure.before.requests);
    positive(`${at}.failure.window.requests`, shape.failure.window.requests);
    positive(`${at}.failure.payment.requests`, shape.failure.payment.requests);
    // The crash must really have taken payment down, in either shape.
    positive(`${at}.failure.payment.failed`, shape.failure.payment.failed);
    finite(`${at}.failure.window.share`, shape.failure.window.share);
  }
  // In container mode the monolith's PostgreSQL server is a part too.
  const hosts = result.monolith.parts.filter((p) => p.startsWith('monolith')).length;
  if (hosts !== 1 || (result.mode === 'process' && result.monolith.parts.length !== 1)) {
    problems.push(`monolith.parts: expected one monolith${result.mode === 'process' ? ' and nothing else' : ''}, got [${result.monolith.parts.join(', ')}]`);
  }
  const replicas = result.scaling.runs.map((r) => r.replicas);
  if (replicas.join(',') !== '1,2') problems.push(`scaling.runs: expected webtoon at 1 and 2 replicas, got [${replicas.join(', ')}]`);
  for (const run of result.scaling.runs) {
    figures(`scaling[${run.replicas}].webtoon`, run.webtoon);
    figures(`scaling[${run.replicas}].rest`, run.rest);
  }
  return problems;
}

export interface WrittenReport {
  readonly markdown: string;
  readonly files: { readonly markdown: string; readonly chart: string; readonly json: string };
}

/** report.md, compare.svg and report.json (every figure, for diffs between runs) in `dir`. */
export async function writeReport(result: CompareResult, dir: string, meta: Omit<ReportMeta, 'chartFile'>): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const files = { markdown: join(dir, 'report.md'), chart: join(dir, 'compare.svg'), json: join(dir, 'report.json') };
  const markdown = renderMarkdown(result, { ...meta, chartFile: 'compare.svg' });
  await writeFile(files.markdown, markdown);
  await writeFile(files.chart, renderChart(`Monolith versus services (${result.mode} mode, size ${result.size.name})`, comparePanels(result)));
  await writeFile(files.json, `${JSON.stringify({ meta, result }, null, 2)}\n`);
  return { markdown, files };
}
