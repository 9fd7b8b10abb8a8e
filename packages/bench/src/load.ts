import { readFileSync, readdirSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  /**
   * The load generator's CPU, in cores (1 = one core busy the whole run). It
   * runs in this process and shares the machine with the server: near 1, the
   * target may be faster than measured, as the generator could not send more.
   */
  readonly loadgenCores: number;
  /**
   * CPU the target's processes used per answered request, in microseconds,
   * when `cpuOf` was given. Less moved by a busy machine than requests/s:
   * what the target costs, not what it got.
   */
  readonly serverCpuUs?: number;
}

export interface LoadOptions {
  readonly seconds: number;
  readonly connections: number;
  readonly headers?: Record<string, string>;
  /** The CPU time, in ms, the target's processes have used so far (see `processCpuMs`). */
  readonly cpuOf?: () => number;
}

/** User + system CPU, in ms, that `pids` and their child processes have used so far (Linux /proc). */
export function processCpuMs(pids: readonly number[]): number {
  const tick = 10; // USER_HZ is 100 on Linux: clock ticks are 10 ms.
  let total = 0;
  const seen = new Set<number>();
  const visit = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      total += (Number(fields[11]) + Number(fields[12])) * tick;
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
      }
    } catch {
      // Gone, or no /proc (macOS): counted as nothing.
    }
  };
  for (const pid of pids) visit(pid);
  return total;
}

/** Drives `url` with keep-alive connections for a while, after a short warm-up that is not counted. */
export async function load(name: string, url: string, options: LoadOptions): Promise<LoadResult> {
  const run = (duration: number) =>
    autocannon({ url, connections: options.connections, duration, headers: options.headers ?? {}, pipelining: 1 });
  await run(Math.min(2, options.seconds));
  const cpu = process.cpuUsage();
  const serverBefore = options.cpuOf?.();
  const started = performance.now();
  const result = await run(options.seconds);
  const used = process.cpuUsage(cpu);
  const serverMs = serverBefore === undefined ? undefined : (options.cpuOf?.() ?? 0) - serverBefore;
  const loadgenCores = (used.user + used.system) / 1_000 / (performance.now() - started);
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loadgenCores,
    ...(serverMs === undefined || result.requests.total === 0 ? {} : { serverCpuUs: (serverMs * 1_000) / result.requests.total }),
  };
}

/** A table for the terminal, one row per result, and the ratio of each to the first. */
export function table(results: readonly LoadResult[]): string {
  const base = results[0];
  const withCpu = results.some((r) => r.serverCpuUs !== undefined);
  const rows = results.map((r) => [
    r.name,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.errors + r.non2xx),
    base ? `${(r.requestsPerSecond / base.requestsPerSecond).toFixed(2)} x` : '',
    `${Math.round(r.loadgenCores * 100)} %`,
    ...(withCpu ? [r.serverCpuUs === undefined ? 'n/a' : r.serverCpuUs.toFixed(0)] : []),
  ]);
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', `vs ${base?.name ?? ''}`, 'loadgen cpu', ...(withCpu ? ['target cpu us/req'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** What a ratio should be, e.g. `atLeast(0.5)`: gateway / nginx throughput. */
export interface Goal {
  readonly text: string;
  met(ratio: number): boolean;
}

export const atLeast = (x: number): Goal => ({ text: `>= ${x} x`, met: (ratio) => ratio >= x });
export const atMost = (x: number): Goal => ({ text: `<= ${x} x`, met: (ratio) => ratio <= x });

/**
 * A ratio printed beside its goal, with the verdict: `label: 0.55 x (goal >= 0.5 x: met)`.
 * A missed goal is a result like any other, so the benchmarks exit 0 once they
 * ran, whatever they measured; only a run that could not measure fails. Failed
 * requests count as a miss (a fast error is not a fast answer); no figure
 * (`undefined`, or no baseline) says why it was not measured.
 */
export function goalLine(label: string, ratio: number | undefined, goal: Goal, failedRequests = 0, notMeasured = 'not measured'): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return `${label}: ${notMeasured} (goal ${goal.text}: not measured)`;
  const verdict = failedRequests > 0 ? `missed, ${failedRequests} requests failed` : goal.met(ratio) ? 'met' : 'missed';
  return `${label}: ${ratio.toFixed(2)} x (goal ${goal.text}: ${verdict})`;
}
