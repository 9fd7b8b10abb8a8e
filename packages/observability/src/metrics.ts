import { Registry, collectDefaultMetrics } from 'prom-client';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Every label the series carries, `service` (a default label) included. */
  readonly labels: readonly string[];
}

/** Seconds; from 5 ms (a cached read) to 5 s (past any timeout a client waits for). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Every portal_* metric the code emits: the contract with the dashboards and
 * alert rules, and what the registry is built from. Labels never hold ids.
 */
export const METRIC_CATALOGUE = [
  {
    name: 'portal_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered, by route template ("unmatched" when no route matched) and status code.',
    labels: ['service', 'method', 'route', 'status'],
  },
  {
    name: 'portal_http_request_duration_seconds',
    type: 'histogram',
    help: 'Time from receiving an HTTP request to sending its answer, by route template and status code.',
    labels: ['service', 'method', 'route', 'status'],
  },
  {
    name: 'portal_events_published_total',
    type: 'counter',
    help: 'Events the outbox relay handed to the bus and marked published.',
    labels: ['service', 'event'],
  },
  {
    name: 'portal_events_consumed_total',
    type: 'counter',
    help: 'Events a consumer group applied (handled) or recognised as already applied (duplicate).',
    labels: ['service', 'group', 'event', 'outcome'],
  },
  {
    name: 'portal_events_failed_total',
    type: 'counter',
    help: 'Event handler attempts that threw; each retry that fails counts again.',
    labels: ['service', 'group', 'event'],
  },
  {
    name: 'portal_events_dead_lettered_total',
    type: 'counter',
    help: 'Events a consumer group gave up on: not matching their contract (schema) or failing every attempt (handler).',
    labels: ['service', 'group', 'reason'],
  },
  {
    name: 'portal_outbox_backlog',
    type: 'gauge',
    help: 'Events committed to a module\'s outbox and not yet published.',
    labels: ['service', 'module'],
  },
  {
    name: 'portal_outbox_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest unpublished outbox event of a module; 0 when there is none.',
    labels: ['service', 'module'],
  },
  {
    name: 'portal_consumer_lag',
    type: 'gauge',
    help: 'Messages in a Kafka partition that a consumer group has not committed yet.',
    labels: ['service', 'group', 'topic', 'partition'],
  },
  {
    name: 'portal_webtoon_episode_views_total',
    type: 'counter',
    help: 'Webtoon episode views written to the database.',
    labels: ['service'],
  },
  {
    name: 'portal_payments_total',
    type: 'counter',
    help: 'Payments committed, by outcome: completed, failed (declined) or refunded. Idempotent replays do not count.',
    labels: ['service', 'outcome'],
  },
  {
    name: 'portal_gateway_requests_total',
    type: 'counter',
    help: 'Requests the gateway answered, by route, upstream service, upstream instance and status ("none" when no upstream was involved).',
    labels: ['service', 'route', 'upstream', 'instance', 'status'],
  },
  {
    name: 'portal_gateway_request_duration_seconds',
    type: 'histogram',
    help: 'Time from the gateway receiving a request to sending its answer, by route, upstream and status.',
    labels: ['service', 'route', 'upstream', 'status'],
  },
  {
    name: 'portal_gateway_upstream_errors_total',
    type: 'counter',
    help: 'Exchanges with an upstream instance that failed: connect, timeout, or reset (the connection broke).',
    labels: ['service', 'upstream', 'instance', 'kind'],
  },
  {
    name: 'portal_gateway_breaker_state',
    type: 'gauge',
    help: 'The circuit breaker of an upstream service: 0 closed, 1 half-open, 2 open.',
    labels: ['service', 'upstream'],
  },
  {
    name: 'portal_gateway_instances',
    type: 'gauge',
    help: 'Instances of an upstream service the gateway knows, by state: healthy, ejected, probing.',
    labels: ['service', 'upstream', 'state'],
  },
] as const satisfies readonly MetricDefinition[];

type Entry = (typeof METRIC_CATALOGUE)[number];
/** The names of the catalogue's metrics, of one type if given. */
export type MetricName<T extends MetricType = MetricType> = Extract<Entry, { type: T }>['name'];
/** A metric's own labels: every one but `service`, which the registry adds. */
export type MetricLabel<N extends MetricName> = Exclude<Extract<Entry, { name: N }>['labels'][number], 'service'>;
export type LabelValues<L extends string> = { readonly [K in L]: string | number };

export interface BoundCounter {
  inc(value?: number): void;
}
export interface BoundGauge {
  set(value: number): void;
}
export interface BoundHistogram {
  observe(seconds: number): void;
}

/** A counter of the catalogue. `labels()` resolves a series once, for hot paths. */
export interface CounterMetric<L extends string> {
  inc(labels: LabelValues<L>, value?: number): void;
  labels(labels: LabelValues<L>): BoundCounter;
}
export interface GaugeMetric<L extends string> {
  set(labels: LabelValues<L>, value: number): void;
  labels(labels: LabelValues<L>): BoundGauge;
  /** Drops one series, e.g. a partition that is no longer assigned. */
  remove(labels: LabelValues<L>): void;
  /** Drops every series, before setting the current ones again. */
  reset(): void;
}
export interface HistogramMetric<L extends string> {
  observe(labels: LabelValues<L>, seconds: number): void;
  labels(labels: LabelValues<L>): BoundHistogram;
}

/** Refreshes gauges from their source when Prometheus scrapes. */
export type Sampler = () => void | Promise<void>;

export interface PortalMetrics {
  counter<N extends MetricName<'counter'>>(name: N): CounterMetric<MetricLabel<N>>;
  gauge<N extends MetricName<'gauge'>>(name: N): GaugeMetric<MetricLabel<N>>;
  histogram<N extends MetricName<'histogram'>>(name: N): HistogramMetric<MetricLabel<N>>;
  /** Sets the `service` label every series carries. */
  nameService(service: string): void;
  /**
   * Runs `sample` before each exposition, bounded by SAMPLE_TIMEOUT_MS (a
   * sampler that takes longer keeps its previous values). Returns its removal.
   */
  onScrape(sample: Sampler): () => void;
  /** The Prometheus text exposition of every metric, with its Content-Type. */
  exposition(): Promise<{ readonly contentType: string; readonly text: string }>;
}

/** How long a scrape waits for one sampler. */
export const SAMPLE_TIMEOUT_MS = 1_000;

/**
 * prom-client's default gauges whose names end in `_total`, which promtool
 * reserves for counters ("non-counter metrics should not have _total
 * suffix"): dropped, so every /metrics output passes `promtool check metrics`.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

interface Value {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

/**
 * One metric of the catalogue, in the shape prom-client's Registry renders
 * (`name`, `get()`). Ours rather than prom-client's Counter/Gauge/Histogram:
 * their label children hash and validate the label set on every inc() and
 * observe() (measured: about 3 µs a request for the gateway's two metrics),
 * while a series here is a plain object found once and then only added to.
 */
class Family<S> {
  readonly #series = new Map<string, { labels: Record<string, string>; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly labelNames: readonly string[],
    private readonly make: () => S,
    private readonly values: (series: S, labels: Record<string, string>) => Value[],
  ) {}

  series(labels: LabelValues<string>): S {
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      if (value === undefined) throw new Error(`${this.name}: label '${name}' is missing`);
      key += `${String(value)}\u0000`;
    }
    let found = this.#series.get(key);
    if (!found) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = String(labels[name]);
      found = { labels: own, series: this.make() };
      this.#series.set(key, found);
    }
    return found.series;
  }

  remove(labels: LabelValues<string>): void {
    this.#series.delete(this.labelNames.map((name) => `${String(labels[name])}\u0000`).join(''));
  }

  reset(): void {
    this.#series.clear();
  }

  get() {
    const values: Value[] = [];
    for (const { labels, series } of this.#series.values()) values.push(...this.values(series, labels));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' as const };
  }
}

class CounterSeries implements BoundCounter {
  value = 0;
  inc(value = 1): void {
    if (!(value >= 0)) throw new Error(`a counter only goes up (got ${value})`);
    this.value += value;
  }
}

class GaugeSeries implements BoundGauge {
  value = 0;
  set(value: number): void {
    this.value = value;
  }
}

class HistogramSeries implements BoundHistogram {
  /** Per bucket, not yet cumulative; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** A registry of the whole catalogue plus prom-client's default process metrics, every series labelled `service`. */
export function createMetrics(service: string): PortalMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);

  const families = new Map<string, unknown>();
  for (const { name, type, help, labels } of METRIC_CATALOGUE) {
    const own = labels.filter((label) => label !== 'service');
    const family =
      type === 'counter'
        ? new Family(name, help, type, own, () => new CounterSeries(), (s, l) => [{ labels: l, value: s.value }])
        : type === 'gauge'
          ? new Family(name, help, type, own, () => new GaugeSeries(), (s, l) => [{ labels: l, value: s.value }])
          : new Family(name, help, type, own, () => new HistogramSeries(DURATION_BUCKETS), (s, l) => {
              const out: Value[] = [];
              let cumulative = 0;
              DURATION_BUCKETS.forEach((le, i) => {
                cumulative += s.counts[i] as number;
                out.push({ metricName: `${name}_bucket`, labels: { ...l, le }, value: cumulative });
              });
              out.push({ metricName: `${name}_bucket`, labels: { ...l, le: '+Inf' }, value: s.count });
              out.push({ metricName: `${name}_sum`, labels: l, value: s.sum });
              out.push({ metricName: `${name}_count`, labels: l, value: s.count });
              return out;
            });
    // prom-client's Registry renders anything with a name and get(); its own metric classes are not required.
    registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
    families.set(name, family);
  }
  const family = <S>(name: string) => families.get(name) as Family<S>;
  const counter = (name: string): CounterMetric<string> => {
    const f = family<CounterSeries>(name);
    return { inc: (labels, value) => f.series(labels).inc(value), labels: (labels) => f.series(labels) };
  };
  const gauge = (name: string): GaugeMetric<string> => {
    const f = family<GaugeSeries>(name);
    return {
      set: (labels, value) => f.series(labels).set(value),
      labels: (labels) => f.series(labels),
      remove: (labels) => f.remove(labels),
      reset: () => f.reset(),
    };
  };
  const histogram = (name: string): HistogramMetric<string> => {
    const f = family<HistogramSeries>(name);
    return { observe: (labels, seconds) => f.series(labels).observe(seconds), labels: (labels) => f.series(labels) };
  };
  const samplers = new Set<Sampler>();

  const bounded = async (sample: Sampler) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SAMPLE_TIMEOUT_MS)));
    try {
      await Promise.race([Promise.resolve().then(sample), late]);
    } catch {
      // A failed sample leaves the previous values; the scrape still answers.
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    counter,
    gauge,
    histogram,
    nameService: (name) => registry.setDefaultLabels({ service: name }),
    onScrape: (sample) => {
      samplers.add(sample);
      return () => void samplers.delete(sample);
    },
    exposition: async () => {
      await Promise.all([...samplers].map(bounded));
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}

let processMetrics: PortalMetrics | undefined;

/**
 * The process's registry: what its /metrics serves and what every package
 * of the process counts into. The host (or the gateway) names the service at
 * start-up; until then series carry service="unknown".
 */
export function metrics(): PortalMetrics {
  return (processMetrics ??= createMetrics('unknown'));
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a text exposition (comments skipped): for tests and checks that read /metrics. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sampleSum(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
  }
  return sum;
}
