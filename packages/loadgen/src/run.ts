import { Histogram } from './histogram.js';
import { HttpClient } from './http.js';
import type { FailureKind } from './http.js';
import { picker, seededRandom } from './mix.js';
import type { Mix, Operation } from './mix.js';
import { Progress } from './progress.js';
import { checkShape, describeShape, dueBy } from './shapes.js';
import type { LoadShape } from './shapes.js';
import type { Content } from './setup.js';

/** One request's fate, for callers that slice a run by time (the failure drill). */
export interface RequestResult {
  readonly route: string;
  readonly service: string;
  /** performance.now() when it was sent. */
  readonly sentAt: number;
  readonly latencyMs: number;
  /** The HTTP status, or how it failed without one. */
  readonly status: number | FailureKind;
  /** An answer the route expects (see Operation.expect). */
  readonly ok: boolean;
}

export interface RouteStats {
  readonly route: string;
  readonly service: string;
  requests: number;
  errors: number;
  /** Count per HTTP status or failure kind. */
  readonly outcomes: Record<string, number>;
  readonly latency: Histogram;
}

export interface SecondStats {
  /** Requests the shape asked for in this second (open shapes). */
  target: number;
  sent: number;
  ok: number;
  errors: number;
  /** Not sent: the in-flight bound was reached. */
  missed: number;
}

export interface LoadReport {
  readonly mix: string;
  readonly shape: LoadShape;
  /** How long it ran: the shape's length, or less if ended early. */
  readonly seconds: number;
  /** performance.now() at the start and the end (scheduled, or when ended early). */
  readonly startedAt: number;
  readonly endsAt: number;
  readonly sent: number;
  readonly missed: number;
  /** Requests the shape asked for (open shapes); for `closed`, what was sent. */
  readonly target: number;
  /** False when fewer than 95 % of the target's requests were sent on time: the target or this generator was saturated. */
  readonly targetReached: boolean;
  readonly routes: ReadonlyMap<string, RouteStats>;
  readonly timeline: readonly SecondStats[];
  /** This process's CPU over the run, in cores: near 1, the generator itself may have been the limit. */
  readonly loadgenCores: number;
}

export interface LoadOptions {
  /** http://host:port of the gateway or the monolith. */
  readonly baseUrl: string;
  readonly mix: Mix;
  readonly shape: LoadShape;
  readonly content: Content;
  /** At most this many requests in flight (open shapes); beyond, requests are counted as missed. Default 256. */
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
  readonly seed?: number;
  /** A label for progress lines. */
  readonly label?: string;
  /** Live progress on this stream (a TTY gets one updating line); false for none. Default process.stderr. */
  readonly progress?: NodeJS.WriteStream | false;
  readonly onResult?: (result: RequestResult) => void;
  /** Ends the run early: nothing more is sent, what is in flight is awaited. */
  readonly signal?: AbortSignal;
}

const TICK_MS = 5;

export function newRouteStats(op: Pick<Operation, 'route' | 'service'>): RouteStats {
  return { route: op.route, service: op.service, requests: 0, errors: 0, outcomes: {}, latency: new Histogram() };
}

/**
 * Drives the target with the mix in the given shape and resolves once every
 * request sent has its answer (or timed out). Open shapes send on a 5 ms
 * timer: request n goes when the shape's integral reaches n, so the rate is
 * the shape's whether answers come fast or slow (no coordinated omission).
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const shape = checkShape(options.shape);
  const maxInFlight = options.maxInFlight ?? 256;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a whole number >= 1, got ${maxInFlight}`);
  const concurrency = shape.kind === 'closed' ? shape.concurrency : maxInFlight;
  const client = new HttpClient(options.baseUrl, { connections: concurrency, timeoutMs: options.timeoutMs });
  const random = seededRandom(options.seed ?? 1);
  const next = picker(options.mix, random);
  const routes = new Map<string, RouteStats>(options.mix.entries.map((e) => [e.op.route, newRouteStats(e.op)]));
  const seconds = Math.ceil(shape.seconds);
  const timeline: SecondStats[] = Array.from({ length: seconds }, (_, i) => ({
    target: shape.kind === 'closed' ? 0 : dueBy(shape, i + 1) - dueBy(shape, i),
    sent: 0,
    ok: 0,
    errors: 0,
    missed: 0,
  }));
  const secondOf = (at: number) => timeline[Math.min(seconds - 1, Math.max(0, Math.floor((at - startedAt) / 1_000)))] as SecondStats;
  const progress = options.progress === false ? undefined : new Progress(options.progress ?? process.stderr, options.label ?? options.mix.name, shape);

  let inFlight = 0;
  let sent = 0;
  let missed = 0;
  let resolveDrained: (() => void) | undefined;
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  // In seconds from the start, so a full run's count is exactly the shape's (no float error from absolute times).
  let endSeconds = shape.seconds;
  const elapsed = (now: number) => {
    const t = (now - startedAt) / 1_000;
    if (options.signal?.aborted && t < endSeconds) endSeconds = t;
    return Math.min(t, endSeconds);
  };
  const over = (now: number) => elapsed(now) >= endSeconds;

  const fire = (): Promise<void> => {
    const operation = next();
    const req = operation.build(options.content, random);
    const sentAt = performance.now();
    inFlight += 1;
    sent += 1;
    secondOf(sentAt).sent += 1;
    return client.send(req).then((outcome) => {
      const latencyMs = performance.now() - sentAt;
      const status = 'status' in outcome ? outcome.status : outcome.failure;
      const ok = typeof status === 'number' && operation.expect.includes(status);
      const stats = routes.get(operation.route) as RouteStats;
      stats.requests += 1;
      stats.outcomes[status] = (stats.outcomes[status] ?? 0) + 1;
      stats.latency.record(latencyMs);
      const second = secondOf(sentAt);
      if (ok) second.ok += 1;
      else {
        stats.errors += 1;
        second.errors += 1;
      }
      progress?.record(latencyMs, ok);
      options.onResult?.({ route: operation.route, service: operation.service, sentAt, latencyMs, status, ok });
      inFlight -= 1;
      if (inFlight === 0) resolveDrained?.();
    });
  };

  progress?.start();
  try {
    if (shape.kind === 'closed') {
      const worker = async () => {
        while (!over(performance.now())) await fire();
      };
      await Promise.all(Array.from({ length: shape.concurrency }, worker));
    } else {
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const now = performance.now();
          const t = elapsed(now);
          const due = Math.floor(dueBy(shape, t));
          while (sent + missed < due) {
            if (inFlight < maxInFlight) void fire();
            else {
              missed += 1;
              secondOf(now).missed += 1;
            }
          }
          progress?.tick(inFlight, missed);
          if (t >= endSeconds) {
            clearInterval(timer);
            resolve();
          }
        }, TICK_MS);
      });
      if (inFlight > 0) await new Promise<void>((resolve) => (resolveDrained = resolve));
    }
  } finally {
    progress?.stop();
    await client.close();
  }
  const used = process.cpuUsage(cpu);
  const elapsedMs = performance.now() - startedAt;
  const ranSeconds = endSeconds;
  const target = shape.kind === 'closed' ? sent : Math.floor(dueBy(shape, ranSeconds));
  return {
    mix: options.mix.name,
    shape,
    seconds: ranSeconds,
    startedAt,
    endsAt: startedAt + endSeconds * 1_000,
    sent,
    missed,
    target,
    targetReached: shape.kind === 'closed' || sent >= 0.95 * target,
    routes,
    timeline: timeline.slice(0, Math.ceil(ranSeconds)),
    loadgenCores: (used.user + used.system) / 1_000 / elapsedMs,
  };
}

export interface Summary {
  readonly requests: number;
  readonly errors: number;
  /** Answered requests per second of the run. */
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Totals over the routes `include` selects (all by default). */
export function summarize(report: LoadReport, include: (stats: RouteStats) => boolean = () => true): Summary {
  const selected = [...report.routes.values()].filter(include);
  const latency = Histogram.merge(selected.map((s) => s.latency));
  const requests = selected.reduce((n, s) => n + s.requests, 0);
  return {
    requests,
    errors: selected.reduce((n, s) => n + s.errors, 0),
    rps: requests / report.seconds,
    p50: latency.percentile(50),
    p90: latency.percentile(90),
    p99: latency.percentile(99),
    max: latency.maximum,
  };
}

export { describeShape };
