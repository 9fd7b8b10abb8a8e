import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireDocker, waitUntil } from '@portal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { NODE_IMAGE, PROMETHEUS_IMAGE, docker, dockerOk } from './docker.runner.js';
import { MONITORING_DIR, PROMETHEUS_DIR, RULES_DIR, RULES_MOUNT, dashboardQueries, loadDashboards, loadRules, panelsOf, readYaml, ruleQueries } from './monitoring.files.js';

/**
 * The real thing, small: the Prometheus image with the Compose config and
 * every rule file, scraping two containers that answer to the DNS name
 * `webtoon` (as `--scale webtoon=2` makes them) and serve the code's own
 * registry (createMetrics from @portal/observability) with some traffic
 * counted. A second Prometheus runs the Kubernetes config's relabelling on
 * pods described the way kubernetes_sd describes them. Every rule and every
 * dashboard query is then run on this Prometheus version.
 */

const REPO = resolve(MONITORING_DIR, '../..');
const run = randomUUID().slice(0, 8);
const network = `portal-monitoring-${run}`;
const containers: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'portal-prometheus-run-'));

/** A stand-in for one webtoon replica: the apps' metrics registry, counting a request every 50 ms. */
const TARGET = `
import { createServer } from 'node:http';
import { createMetrics } from '/repo/packages/observability/dist/index.js';
const metrics = createMetrics('webtoon');
const requests = metrics.counter('portal_http_requests_total');
const duration = metrics.histogram('portal_http_request_duration_seconds');
const views = metrics.counter('portal_webtoon_episode_views_total');
const labels = { method: 'GET', route: '/api/webtoon/episodes/:episodeId', status: 200 };
// A gateway series too, for its own \`instance\` label (the upstream instance).
const proxied = metrics.counter('portal_gateway_requests_total');
setInterval(() => {
  requests.inc(labels);
  proxied.inc({ route: 'webtoon', upstream: 'webtoon', instance: '10.1.2.3:3003', status: 200 });
  duration.observe(labels, 0.004 + Math.random() * 0.05);
  views.inc({});
}, 50);
createServer(async (request, response) => {
  if (request.url !== '/metrics') return response.writeHead(404).end();
  const { contentType, text } = await metrics.exposition();
  response.writeHead(200, { 'content-type': contentType }).end(text);
}).listen(3003, () => console.log('target ready'));
`;

/** Pods as kubernetes_sd_configs (role: pod) describes them: one to scrape, one not annotated, one not running. */
function pod(name: string, address: string, meta: Record<string, string>) {
  return {
    targets: [address],
    labels: {
      __meta_kubernetes_namespace: 'portal',
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: name.split('-')[0] as string,
      ...meta,
    },
  };
}
const annotated = {
  __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
  __meta_kubernetes_pod_annotation_prometheus_io_port: '3003',
  __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
};
const PODS = [
  // kubernetes_sd gives the address of a declared container port; the annotation says which port serves /metrics.
  pod('webtoon-5d8f7c-x2x7k', 'webtoon:8080', annotated),
  pod('kafka-0', 'webtoon:9092', {}),
  pod('webtoon-5d8f7c-pend1', 'webtoon:8080', { ...annotated, __meta_kubernetes_pod_phase: 'Pending' }),
];

async function startContainer(name: string, args: readonly string[]): Promise<void> {
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, '--network', network, ...args]);
}

async function hostPort(container: string): Promise<string> {
  const mapped = await dockerOk(['port', container, '9090/tcp']);
  const port = /127\.0\.0\.1:(\d+)/.exec(mapped)?.[1];
  if (!port) throw new Error(`${container}: no port on 127.0.0.1 in '${mapped}'`);
  return `http://127.0.0.1:${port}`;
}

interface ApiTarget {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

async function api<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
  return body.data;
}

async function query(base: string, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(base, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  return data.result;
}

describe('Prometheus, for real, with the Compose config and rules', () => {
  let compose: string;
  let kubernetes: string;

  beforeAll(async () => {
    await requireDocker(`a Prometheus server (${PROMETHEUS_IMAGE})`, 'nothing (it always runs in a container)');
    console.log(`starting two webtoon stand-ins (${NODE_IMAGE}) and two Prometheus servers (${PROMETHEUS_IMAGE}) on network ${network}`);
    if (!existsSync(join(REPO, 'packages/observability/dist/index.js'))) {
      throw new Error('The metrics target runs the built @portal/observability: build it first (npx turbo run build --filter=@portal/deploy^...).');
    }
    writeFileSync(join(scratch, 'target.mjs'), TARGET);

    // The Kubernetes config, with discovery read from a file of pods (no API server here).
    const config = readYaml<{ scrape_configs: Record<string, unknown>[] }>(join(PROMETHEUS_DIR, 'prometheus.k8s.yml'));
    for (const job of config.scrape_configs) {
      if (job.kubernetes_sd_configs) {
        delete job.kubernetes_sd_configs;
        job.file_sd_configs = [{ files: ['/etc/prometheus/pods.json'] }];
      }
    }
    const k8sDir = join(scratch, 'k8s');
    cpSync(PROMETHEUS_DIR, k8sDir, { recursive: true });
    writeFileSync(join(k8sDir, 'prometheus.yml'), stringify(config));
    writeFileSync(join(k8sDir, 'pods.json'), JSON.stringify(PODS));

    await dockerOk(['network', 'create', network]);
    for (const replica of [1, 2]) {
      await startContainer(`${network}-webtoon-${replica}`, [
        '--network-alias',
        'webtoon',
        '-v',
        `${REPO}:/repo:ro`,
        '-v',
        `${scratch}:/target:ro`,
        '--entrypoint',
        'node',
        NODE_IMAGE,
        '/target/target.mjs',
      ]);
    }
    const prometheus = (config: string) => ['-p', '127.0.0.1::9090', '-v', `${config}:/etc/prometheus/prometheus.yml:ro`, '-v', `${RULES_DIR}:${RULES_MOUNT}:ro`];
    await startContainer(`${network}-prometheus-compose`, [...prometheus(join(PROMETHEUS_DIR, 'prometheus.compose.yml')), PROMETHEUS_IMAGE]);
    await startContainer(`${network}-prometheus-k8s`, [
      ...prometheus(join(k8sDir, 'prometheus.yml')),
      '-v',
      `${join(k8sDir, 'pods.json')}:/etc/prometheus/pods.json:ro`,
      PROMETHEUS_IMAGE,
    ]);
    compose = await hostPort(`${network}-prometheus-compose`);
    kubernetes = await hostPort(`${network}-prometheus-k8s`);
    for (const base of [compose, kubernetes]) {
      await waitUntil(`Prometheus at ${base}`, 60_000, async () => {
        const response = await fetch(`${base}/-/ready`);
        if (!response.ok) throw new Error(`${response.status}`);
      });
    }
    console.log('both Prometheus servers are ready');
  }, 180_000);

  afterAll(async () => {
    for (const name of containers) {
      const logs = await docker(['logs', '--tail', '20', name]);
      if (logs.output.includes('level=error')) console.log(`${name}:\n${logs.output}`);
    }
    if (containers.length > 0) await docker(['rm', '-f', ...containers]);
    await docker(['network', 'rm', network]);
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('finds each webtoon replica through DNS as its own target, labelled app, and scrapes both', async () => {
    const targets = await waitUntil('two webtoon targets up', 90_000, async () => {
      const { activeTargets } = await api<{ activeTargets: ApiTarget[] }>(compose, '/api/v1/targets?state=active');
      const webtoon = activeTargets.filter((t) => t.scrapePool === 'webtoon');
      if (webtoon.length !== 2 || webtoon.some((t) => t.health !== 'up')) {
        throw new Error(`webtoon targets: ${JSON.stringify(webtoon.map((t) => [t.labels.instance, t.health, t.lastError]))}`);
      }
      return webtoon;
    });
    expect(targets.map((t) => t.labels.app)).toEqual(['webtoon', 'webtoon']);
    expect(new Set(targets.map((t) => t.labels.instance)).size).toBe(2);
    for (const t of targets) expect(t.scrapeUrl).toMatch(/^http:\/\/[\d.]+:3003\/metrics$/);
  }, 120_000);

  it('loads every rule group, and evaluates every rule without error', async () => {
    const expected = loadRules().length;
    const rules = await waitUntil('every rule evaluated', 60_000, async () => {
      const { groups } = await api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>(compose, '/api/v1/rules');
      const all = groups.flatMap((g) => g.rules);
      if (all.length !== expected || all.some((r) => r.health !== 'ok')) {
        throw new Error(`rules: ${JSON.stringify(all.map((r) => [r.name, r.health, r.lastError]))}`);
      }
      return all;
    });
    expect(rules).toHaveLength(expected);
  }, 90_000);

  it('runs every rule and dashboard query on this Prometheus version', async () => {
    const failures: string[] = [];
    for (const { where, expr } of [...ruleQueries(), ...dashboardQueries()]) {
      try {
        await query(compose, expr);
      } catch (error) {
        failures.push(`${where}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('answers the webtoon-scaling panels with one series per replica, and the RED recording rules with data', async () => {
    const scaling = loadDashboards().find(({ file }) => file === 'webtoon-scaling.json')?.dashboard;
    const panel = (title: string) => panelsOf(scaling ?? { uid: '', title: '', panels: [] }).find((p) => p.title === title);
    const perReplica = panel('Requests per second per replica')?.targets?.[0]?.expr ?? '';
    expect(perReplica).toContain('by (instance)');
    const series = await waitUntil('a rate per replica', 90_000, async () => {
      const result = await query(compose, perReplica.replaceAll('$__rate_interval', '1m'));
      if (result.length !== 2 || result.some((s) => !(Number(s.value[1]) > 0))) throw new Error(JSON.stringify(result));
      return result;
    });
    expect(series).toHaveLength(2);
    expect(await query(compose, panel('Replicas')?.targets?.[1]?.expr ?? '')).toEqual([{ metric: {}, value: [expect.any(Number), '2'] }]);
    // The gateway's `instance` clashes with the target's: Prometheus keeps it as exported_instance.
    const spread = panel('Gateway: requests per second per webtoon instance')?.targets?.[0]?.expr ?? '';
    const upstreams = await query(compose, spread.replaceAll('$__rate_interval', '1m'));
    expect(upstreams.map((s) => s.metric)).toEqual([{ exported_instance: '10.1.2.3:3003' }]);
    const red = await waitUntil('the RED recording rules', 60_000, async () => {
      const requests = await query(compose, 'service:portal_http_requests:rate5m{service="webtoon"}');
      const errors = await query(compose, 'service:portal_http_error_ratio:rate5m{service="webtoon"}');
      if (requests.length !== 1 || errors.length !== 1) throw new Error(`requests ${JSON.stringify(requests)}, errors ${JSON.stringify(errors)}`);
      return { requests: Number(requests[0]?.value[1]), errors: Number(errors[0]?.value[1]) };
    });
    // Traffic and no 5xx (the ratio is 0, not absent). The rate itself is small
    // yet: a 5-minute window over the few seconds of samples there are.
    expect(red.requests).toBeGreaterThan(0);
    expect(red.errors).toBe(0);
  }, 180_000);

  it('Kubernetes config: keeps only running, annotated pods, scrapes the annotated port and path, labels app/pod/namespace', async () => {
    const { activeTargets, droppedTargets } = await waitUntil('the annotated pod scraped', 90_000, async () => {
      const data = await api<{ activeTargets: ApiTarget[]; droppedTargets: { discoveredLabels: Record<string, string> }[] }>(kubernetes, '/api/v1/targets');
      const pods = data.activeTargets.filter((t) => t.scrapePool === 'kubernetes-pods');
      if (pods.length !== 1 || pods[0]?.health !== 'up') throw new Error(JSON.stringify(pods));
      return data;
    });
    const [target] = activeTargets.filter((t) => t.scrapePool === 'kubernetes-pods');
    expect(target?.labels).toEqual({ app: 'webtoon', pod: 'webtoon-5d8f7c-x2x7k', namespace: 'portal', instance: 'webtoon:3003', job: 'kubernetes-pods' });
    expect(target?.scrapeUrl).toBe('http://webtoon:3003/metrics');
    expect(droppedTargets.filter((t) => t.discoveredLabels.job === 'kubernetes-pods').map((t) => t.discoveredLabels.__meta_kubernetes_pod_name).sort()).toEqual([
      'kafka-0',
      'webtoon-5d8f7c-pend1',
    ]);
  }, 120_000);
});
