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
}

export interface LoadOptions {
  readonly seconds: number;
  readonly connections: number;
  readonly headers?: Record<string, string>;
}

/** Drives `url` with keep-alive connections for a while, after a short warm-up that is not counted. */
export async function load(name: string, url: string, options: LoadOptions): Promise<LoadResult> {
  const run = (duration: number) =>
    autocannon({ url, connections: options.connections, duration, headers: options.headers ?? {}, pipelining: 1 });
  await run(Math.min(2, options.seconds));
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await run(options.seconds);
  const used = process.cpuUsage(cpu);
  const loadgenCores = (used.user + used.system) / 1_000 / (performance.now() - started);
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loadgenCores,
  };
}

/** A table for the terminal, one row per result, and the ratio of each to the first. */
export function table(results: readonly LoadResult[]): string {
  const base = results[0];
  const rows = results.map((r) => [
    r.name,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.errors + r.non2xx),
    base ? `${(r.requestsPerSecond / base.requestsPerSecond).toFixed(2)} x` : '',
    `${Math.round(r.loadgenCores * 100)} %`,
  ]);
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', `vs ${base?.name ?? ''}`, 'loadgen cpu'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
