import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASOURCE_UID, GRAFANA_DIR, MONITORING_DIR, dashboardFileNames, loadDashboards, panelsOf, readYaml } from './monitoring.files.js';

/**
 * Grafana cannot run here, so its files are checked offline: the provisioned
 * data source, the dashboard provider, and every dashboard (valid JSON, unique
 * uids and panel ids, every panel querying the provisioned data source). That
 * the queries parse and use metrics the code emits is promql.spec.ts's job.
 */

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  access: string;
  isDefault?: boolean;
}

describe('Grafana provisioning', () => {
  const { datasources } = readYaml<{ apiVersion: number; datasources: Datasource[] }>(join(GRAFANA_DIR, 'provisioning/datasources/prometheus.yml'));
  const { providers } = readYaml<{ providers: { type: string; options: { path: string } }[] }>(join(GRAFANA_DIR, 'provisioning/dashboards/portal.yml'));

  it('provisions Prometheus with the fixed uid the dashboards name, at the address of the Compose service and the Kubernetes Service', () => {
    expect(datasources).toEqual([
      expect.objectContaining({ uid: DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: 'http://prometheus:9090', isDefault: true }),
    ]);
  });

  it('loads the dashboards from files, from the one directory both deployments mount them at', () => {
    expect(providers).toEqual([expect.objectContaining({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } })]);
  });

  it('is mounted by Compose (deploy/compose) where Grafana and the provider read it', () => {
    const file = join(MONITORING_DIR, '../compose/docker-compose.yml');
    expect(existsSync(file), `${file} (written with deploy/compose)`).toBe(true);
    const { services } = readYaml<{ services: Record<string, { volumes?: string[] }> }>(file);
    expect(services.grafana?.volumes).toEqual(
      expect.arrayContaining([
        '../monitoring/grafana/provisioning:/etc/grafana/provisioning:ro',
        `../monitoring/grafana/dashboards:${providers[0]?.options.path}:ro`,
      ]),
    );
  });
});

describe('the dashboards', () => {
  const dashboards = loadDashboards();

  it('are the four issue #7 asks for', () => {
    expect(dashboardFileNames()).toEqual(['event-bus.json', 'monolith-vs-services.json', 'overview.json', 'webtoon-scaling.json']);
  });

  it('are valid JSON with unique uids and titles', () => {
    for (const file of dashboardFileNames()) expect(() => JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', file), 'utf8')), file).not.toThrow();
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    expect(uids.every((uid) => /^[\w-]{1,40}$/.test(uid)), uids.join()).toBe(true);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.title)).size).toBe(dashboards.length);
  });

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard] as const))('%s: every panel queries the provisioned data source', (_file, dashboard) => {
    const panels = panelsOf(dashboard);
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'unique panel ids').toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
      expect(panel.targets?.length, `${panel.title}: a query`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
        expect(target.expr, `${panel.title} ${target.refId}`).toMatch(/\S/);
      }
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size, `${panel.title}: unique refIds`).toBe(refIds.length);
    }
  });

  it('answer the questions of issue #7', () => {
    const queries = (uid: string) =>
      panelsOf(dashboards.find(({ dashboard }) => dashboard.uid === uid)?.dashboard ?? { uid, title: '', panels: [] })
        .flatMap((panel) => panel.targets ?? [])
        .map((target) => target.expr ?? '')
        .join('\n');
    // RED per service.
    expect(queries('portal-overview')).toMatch(/service:portal_http_requests:rate5m[\s\S]*error_ratio[\s\S]*p99/);
    // Replicas, and traffic and latency per replica.
    expect(queries('portal-webtoon-scaling')).toMatch(/up\{app="webtoon"\}/);
    expect(queries('portal-webtoon-scaling')).toMatch(/sum by \(instance\) \(rate\(portal_http_requests_total\{service="webtoon"\}/);
    expect(queries('portal-webtoon-scaling')).toMatch(/sum by \(instance, le\)/);
    // The whole bus.
    for (const metric of ['published', 'consumed', 'failed', 'dead_lettered']) expect(queries('portal-event-bus')).toContain(`portal_events_${metric}_total`);
    for (const metric of ['portal_outbox_backlog', 'portal_outbox_oldest_age_seconds', 'portal_consumer_lag']) expect(queries('portal-event-bus')).toContain(metric);
    // The monolith against the services, on every axis.
    for (const metric of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'portal_http_request_duration_seconds_bucket', 'portal_gateway_requests_total']) {
      expect(queries('portal-monolith-vs-services')).toContain(metric);
    }
  });
});
