import { describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE, createMetrics, parseExposition, sampleSum } from './metrics.js';

describe('METRIC_CATALOGUE', () => {
  it('names every metric portal_*, counters *_total, durations *_seconds, and labels each with service', () => {
    const names = METRIC_CATALOGUE.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of METRIC_CATALOGUE) {
      expect(metric.name).toMatch(/^portal_[a-z_]+$/);
      expect(metric.name.endsWith('_total')).toBe(metric.type === 'counter');
      if (metric.type === 'histogram') expect(metric.name).toMatch(/_seconds$/);
      expect(metric.labels[0]).toBe('service');
      expect(metric.help.length).toBeGreaterThan(10);
    }
  });
});

describe('createMetrics', () => {
  it('exposes every catalogue metric and the default process metrics, each series labelled with the service', async () => {
    const m = createMetrics('webtoon');
    m.counter('portal_http_requests_total').inc({ method: 'GET', route: '/api/webtoon/episodes/:id', status: 200 });
    m.histogram('portal_http_request_duration_seconds').labels({ method: 'GET', route: '/x', status: 200 }).observe(0.003);
    m.gauge('portal_outbox_backlog').set({ module: 'webtoon' }, 4);
    const { text, contentType } = await m.exposition();
    expect(contentType).toMatch(/^text\/plain/);
    for (const { name, type } of METRIC_CATALOGUE) expect(text).toContain(`# TYPE ${name} ${type}`);
    const samples = parseExposition(text);
    expect(sampleSum(samples, 'portal_http_requests_total', { service: 'webtoon', route: '/api/webtoon/episodes/:id', status: '200' })).toBe(1);
    expect(sampleSum(samples, 'portal_http_request_duration_seconds_bucket', { le: '0.005' })).toBe(1);
    expect(sampleSum(samples, 'portal_outbox_backlog', { module: 'webtoon' })).toBe(4);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(samples.find((s) => s.name === name)?.labels.service, name).toBe('webtoon');
    }
    expect(samples.every((s) => s.labels.service === 'webtoon')).toBe(true);
  });

  it('runs samplers on scrape, and a sampler that hangs or fails does not stop the scrape', async () => {
    const m = createMetrics('payment');
    let calls = 0;
    const remove = m.onScrape(() => void m.gauge('portal_outbox_backlog').set({ module: 'payment' }, ++calls));
    m.onScrape(() => new Promise(() => undefined));
    m.onScrape(() => Promise.reject(new Error('database down')));
    const started = Date.now();
    expect(sampleSum(parseExposition((await m.exposition()).text), 'portal_outbox_backlog')).toBe(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    remove();
    expect(sampleSum(parseExposition((await m.exposition()).text), 'portal_outbox_backlog')).toBe(1);
  });

  it('renames the service label for every series', async () => {
    const m = createMetrics('unknown');
    m.nameService('gateway');
    m.counter('portal_gateway_requests_total').inc({ route: 'news', upstream: 'news', instance: 'http://10.0.0.1:3001', status: 200 });
    const samples = parseExposition((await m.exposition()).text);
    expect(sampleSum(samples, 'portal_gateway_requests_total', { service: 'gateway' })).toBe(1);
  });
});

describe('parseExposition', () => {
  it('reads names, escaped label values and values', () => {
    const samples = parseExposition('# HELP x y\n# TYPE x counter\nx{a="1",b="q\\"uote"} 3\ny 2.5\n');
    expect(samples).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"uote' }, value: 3 },
      { name: 'y', labels: {}, value: 2.5 },
    ]);
  });
});
