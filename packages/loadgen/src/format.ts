import { summarize } from './run.js';
import type { LoadReport } from './run.js';

const f = (value: number, digits = 1) => value.toFixed(digits);

/** Rows of text with aligned columns. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** What went wrong on a route, e.g. "503 x12, connect x3". */
function unexpected(outcomes: Record<string, number>, expected: (key: string) => boolean): string {
  return Object.entries(outcomes)
    .filter(([key]) => !expected(key))
    .map(([key, n]) => `${key} x${n}`)
    .join(', ');
}

/** The report as the terminal shows it: per route, then the total and whether the target rate was met. */
export function formatReport(report: LoadReport, expects: ReadonlyMap<string, readonly number[]> = new Map()): string {
  const rows = [...report.routes.values()]
    .filter((s) => s.requests > 0)
    .sort((a, b) => b.requests - a.requests)
    .map((s) => [
      s.route,
      String(s.requests),
      f(s.requests / report.seconds),
      f(s.latency.percentile(50), 2),
      f(s.latency.percentile(90), 2),
      f(s.latency.percentile(99), 2),
      String(s.errors),
      unexpected(s.outcomes, (key) => (expects.get(s.route) ?? []).includes(Number(key))),
    ]);
  const total = summarize(report);
  rows.push(['total', String(total.requests), f(total.rps), f(total.p50, 2), f(total.p90, 2), f(total.p99, 2), String(total.errors), '']);
  const lines = [table(['route', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'unexpected answers'], rows)];
  if (report.shape.kind !== 'closed') {
    lines.push(
      report.targetReached
        ? `target rate reached: ${report.sent} of ${report.target} requests sent on time`
        : `TARGET RATE NOT REACHED: ${report.sent} of ${report.target} requests sent (${report.missed} not sent: ${report.missed > 0 ? 'the in-flight bound was reached, the target is saturated' : 'the generator fell behind'})`,
    );
  }
  lines.push(`load generator CPU: ${Math.round(report.loadgenCores * 100)} % of a core`);
  return lines.join('\n');
}
