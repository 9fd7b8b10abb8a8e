import { join } from 'node:path';
import { METRIC_CATALOGUE, createMetrics } from '@portal/observability';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_DIR, dashboardQueries, loadRules, readYaml, ruleQueries } from './monitoring.files.js';
import { checkQuery, outputLabels } from './promql.check.js';
import type { KnownMetrics } from './promql.check.js';

/**
 * Every query in the alert rules and on the dashboards parses, and uses only
 * metrics and labels that exist: the code's (METRIC_CATALOGUE, which the apps
 * register their metrics from, and prom-client's default process metrics as
 * the code's own registry exposes them), Prometheus's (up, scrape_*), and the
 * recording rules'. So no dashboard queries a metric nobody emits.
 */

interface ScrapeConfig {
  job_name: string;
  static_configs?: { labels?: Record<string, string> }[];
  relabel_configs?: { target_label?: string }[];
}

/** Labels every target of a config gets: job, instance, and what relabelling and static labels add. */
function targetLabels(file: string): Set<string> {
  const config = readYaml<{ scrape_configs: ScrapeConfig[] }>(join(PROMETHEUS_DIR, file));
  const perJob = config.scrape_configs.map(
    (job) =>
      new Set([
        'job',
        'instance',
        ...(job.relabel_configs ?? []).map((r) => r.target_label ?? '').filter((l) => l !== '' && !l.startsWith('__')),
        ...(job.static_configs ?? []).flatMap((s) => Object.keys(s.labels ?? {})),
      ]),
  );
  // A label only some jobs set would select nothing on the others.
  return perJob.reduce((common, labels) => new Set([...common].filter((label) => labels.has(label))));
}

async function buildKnownMetrics(): Promise<Map<string, Set<string>>> {
  // Queries must work on both deployments: only labels both configs give every target.
  const compose = targetLabels('prometheus.compose.yml');
  const kubernetes = targetLabels('prometheus.k8s.yml');
  const target = [...compose].filter((label) => kubernetes.has(label));

  const known = new Map<string, Set<string>>();
  const add = (name: string, labels: Iterable<string>) => {
    const own = [...labels];
    known.set(name, new Set([
      ...own,
      ...target,
      // A scraped label that clashes with a target label is kept as exported_<label>.
      ...own.filter((label) => target.includes(label)).map((label) => `exported_${label}`),
    ]));
  };

  for (const metric of METRIC_CATALOGUE) {
    if (metric.type === 'histogram') {
      add(`${metric.name}_bucket`, [...metric.labels, 'le']);
      add(`${metric.name}_sum`, metric.labels);
      add(`${metric.name}_count`, metric.labels);
    } else {
      add(metric.name, metric.labels);
    }
  }

  // The default metrics as the apps' own registry exposes them (it drops a few).
  const { text } = await createMetrics('probe').exposition();
  const defaults = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type?.[1] && !type[1].startsWith('portal_')) {
      const base = type[1];
      const names = type[2] === 'histogram' ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : [base];
      for (const name of names) defaults.set(name, new Set(['service', ...(name.endsWith('_bucket') ? ['le'] : [])]));
    }
    const sample = /^([a-zA-Z_:][\w:]*)\{([^}]*)\}/.exec(line);
    if (sample?.[1] && defaults.has(sample[1])) {
      for (const [, label] of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) defaults.get(sample[1])?.add(label as string);
    }
  }
  for (const [name, labels] of defaults) add(name, labels);

  // What Prometheus records about every scrape.
  for (const name of ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']) {
    add(name, []);
  }

  // Recording rules, in file order: their output carries what their query keeps.
  for (const { rule } of loadRules()) {
    if (rule.record) known.set(rule.record, new Set([...outputLabels(rule.expr, known), ...Object.keys(rule.labels ?? {})]));
  }
  return known;
}

describe('the PromQL in the alert rules and dashboards', () => {
  let known: KnownMetrics;
  beforeAll(async () => {
    known = await buildKnownMetrics();
  });

  it('has queries to check (rules and every dashboard)', () => {
    expect(ruleQueries().length).toBeGreaterThanOrEqual(10);
    expect(dashboardQueries().length).toBeGreaterThanOrEqual(30);
  });

  it('knows the code, default and Prometheus metrics the check stands on', () => {
    for (const name of ['portal_http_requests_total', 'portal_http_request_duration_seconds_bucket', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'up']) {
      expect(known.has(name), name).toBe(true);
    }
    expect([...(known.get('up') ?? [])].sort()).toEqual(['app', 'instance', 'job']);
    expect(known.get('portal_gateway_requests_total')?.has('exported_instance')).toBe(true);
  });

  it.each(ruleQueries().map((q) => [q.where, q.expr]))('rule %s parses and uses existing metrics and labels', (_where, expr) => {
    expect(checkQuery(expr, known)).toEqual([]);
  });

  it.each(dashboardQueries().map((q) => [q.where, q.expr]))('panel %s parses and uses existing metrics and labels', (_where, expr) => {
    expect(checkQuery(expr, known)).toEqual([]);
  });

  it('uses every metric of the catalogue somewhere, so none is emitted for nothing', () => {
    const used = [...ruleQueries(), ...dashboardQueries()].map((q) => q.expr).join('\n');
    const unused = METRIC_CATALOGUE.map((m) => m.name).filter((name) => !new RegExp(`\\b${name}(_bucket|_sum|_count)?\\b`).test(used));
    expect(unused).toEqual([]);
  });
});

describe('checkQuery', () => {
  const known: KnownMetrics = new Map([
    ['portal_http_requests_total', new Set(['service', 'status', 'job', 'instance', 'app'])],
    ['portal_http_request_duration_seconds_bucket', new Set(['service', 'le', 'job', 'instance', 'app'])],
    ['up', new Set(['job', 'instance', 'app'])],
  ]);

  it('accepts a sound query', () => {
    expect(checkQuery('histogram_quantile(0.99, sum by (service, le) (rate(portal_http_request_duration_seconds_bucket[5m])))', known)).toEqual([]);
    expect(checkQuery('up == 0 and on (app) (sum by (app) (up) > 0)', known)).toEqual([]);
  });

  it('reports a query that does not parse', () => {
    expect(checkQuery('sum(rate(portal_http_requests_total[5m])', known)[0]).toMatch(/does not parse/);
  });

  it('reports a metric nobody emits', () => {
    expect(checkQuery('rate(portal_http_request_total[5m])', known)).toEqual([expect.stringMatching(/unknown metric 'portal_http_request_total'/)]);
  });

  it('reports a label the metric does not have, in a matcher, a by() and an on()', () => {
    expect(checkQuery('portal_http_requests_total{route="/x"}', known)).toEqual([expect.stringMatching(/no label 'route'/)]);
    expect(checkQuery('sum by (pod) (up)', known)).toEqual([expect.stringMatching(/by \(pod\)/)]);
    expect(checkQuery('up and on (service) sum by (app) (up)', known)).toEqual([
      expect.stringMatching(/on \(service\): the left/),
      expect.stringMatching(/on \(service\): the right/),
    ]);
  });

  it('follows labels through aggregations: a label summed away is gone', () => {
    expect(checkQuery('sum by (service) (sum by (app) (up))', known)).toEqual([expect.stringMatching(/by \(service\)/)]);
    expect(checkQuery('histogram_quantile(0.5, sum by (service) (rate(portal_http_request_duration_seconds_bucket[5m])))', known)).toEqual([
      expect.stringMatching(/no label 'le'/),
    ]);
  });
});
