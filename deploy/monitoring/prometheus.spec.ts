import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireDocker } from '@portal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PROMETHEUS_IMAGE, promtool } from './docker.runner.js';
import { MONITORING_DIR, PROMETHEUS_DIR, RULES_DIR, RULES_GLOB, RULES_MOUNT, SCRAPED_APPS, loadRules, readYaml, ruleFileNames, ruleTestFileNames } from './monitoring.files.js';

/**
 * promtool, from the Prometheus image, on the real files: both scrape configs
 * (with the rule files mounted where rule_files says), every rule file, and
 * every rule unit test. Each check is also run on a broken copy, which must
 * fail: a check that cannot fail proves nothing.
 */

const scratch = mkdtempSync(join(tmpdir(), 'portal-monitoring-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the rules directory under `scratch`, optionally with one file edited. */
function copyRules(name: string, edit?: { file: string; change: (text: string) => string }): string {
  const dir = join(scratch, name);
  cpSync(RULES_DIR, dir, { recursive: true });
  if (edit) {
    const path = join(dir, edit.file);
    const before = readFileSync(path, 'utf8');
    const after = edit.change(before);
    expect(after, 'the edit must change something').not.toBe(before);
    writeFileSync(path, after);
  }
  return dir;
}

describe('promtool', () => {
  beforeAll(() => requireDocker(`promtool (from ${PROMETHEUS_IMAGE})`, 'nothing (promtool always runs in a container)'), 60_000);

  it('check config: the Compose config is valid and finds every rule file where it expects them', async () => {
    const { code, output } = await promtool(['check', 'config', '/config/prometheus.compose.yml'], [[PROMETHEUS_DIR, '/config'], [RULES_DIR, RULES_MOUNT]]);
    expect(output).toContain(`SUCCESS: ${ruleFileNames().length} rule files found`);
    expect(code, output).toBe(0);
  });

  it('check config: the Kubernetes config is valid', async () => {
    const result = await promtool(['check', 'config', '/config/prometheus.k8s.yml'], [[PROMETHEUS_DIR, '/config'], [RULES_DIR, RULES_MOUNT]]);
    if (result.code !== 0 && result.output.includes('field kubernetes_sd_configs not found')) {
      // Debian's Prometheus (the stand-in here) is built without Kubernetes
      // discovery; upstream prom/prometheus has it. Check everything else in
      // the file - relabelling included - with the discovery swapped for a
      // static list, and the discovery block itself below.
      const config = readYaml<{ scrape_configs: Record<string, unknown>[] }>(join(PROMETHEUS_DIR, 'prometheus.k8s.yml'));
      for (const job of config.scrape_configs) {
        if (job.kubernetes_sd_configs) {
          delete job.kubernetes_sd_configs;
          job.static_configs = [{ targets: ['10.0.0.1:8080'] }];
        }
      }
      const dir = join(scratch, 'k8s-without-sd');
      cpSync(PROMETHEUS_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'prometheus.k8s.yml'), stringify(config));
      const swapped = await promtool(['check', 'config', '/config/prometheus.k8s.yml'], [[dir, '/config'], [RULES_DIR, RULES_MOUNT]]);
      console.warn(`${PROMETHEUS_IMAGE} has no Kubernetes discovery: checked prometheus.k8s.yml with it replaced by a static target`);
      expect(swapped.code, swapped.output).toBe(0);
      return;
    }
    expect(result.output).toContain(`SUCCESS: ${ruleFileNames().length} rule files found`);
    expect(result.code, result.output).toBe(0);
  });

  it('check config fails on a broken copy', async () => {
    const dir = join(scratch, 'broken-config');
    cpSync(PROMETHEUS_DIR, dir, { recursive: true });
    const path = join(dir, 'prometheus.compose.yml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('type: A', 'type: CNAME'));
    const { code, output } = await promtool(['check', 'config', '/config/prometheus.compose.yml'], [[dir, '/config'], [RULES_DIR, RULES_MOUNT]]);
    expect(output).toMatch(/invalid DNS-SD records type CNAME/i);
    expect(code).not.toBe(0);
  });

  it('check rules: every rule file is valid', async () => {
    const files = ruleFileNames();
    const { code, output } = await promtool(['check', 'rules', ...files], [[RULES_DIR, '/rules']], '/rules');
    expect(output.match(/SUCCESS/g)).toHaveLength(files.length);
    expect(code, output).toBe(0);
  });

  it('check rules fails on a broken copy', async () => {
    const dir = copyRules('broken-rules', { file: 'http.rules.yml', change: (text) => text.replace('> 0.05', '> > 0.05') });
    const { code, output } = await promtool(['check', 'rules', 'http.rules.yml'], [[dir, '/rules']], '/rules');
    expect(output).toMatch(/parse error/);
    expect(code).not.toBe(0);
  });

  it('test rules: every unit test passes', async () => {
    const files = ruleTestFileNames();
    const { code, output } = await promtool(['test', 'rules', ...files], [[RULES_DIR, '/rules']], '/rules');
    expect(output).not.toContain('FAILED');
    expect(output.match(/SUCCESS/g)).toHaveLength(files.length);
    expect(code, output).toBe(0);
  });

  it('test rules fails when an alert does not behave as its test says', async () => {
    // Raise the error-ratio threshold above what the test's traffic has (9%).
    const dir = copyRules('broken-tests', { file: 'http.rules.yml', change: (text) => text.replace('error_ratio:rate5m > 0.05', 'error_ratio:rate5m > 0.10') });
    const { code, output } = await promtool(['test', 'rules', 'http.test.yml'], [[dir, '/rules']], '/rules');
    expect(output).toContain('alertname: HighErrorRatio');
    expect(output).toContain('FAILED');
    expect(code).not.toBe(0);
  });
});

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}

describe('the alert rules', () => {
  const alerts = loadRules().filter(({ rule }) => rule.alert);

  it('cover what issue #7 asks for', () => {
    expect(alerts.map(({ rule }) => rule.alert).sort()).toEqual(
      ['ConsumerLagGrowing', 'EventsDeadLettered', 'HighErrorRatio', 'HighLatencyP99', 'InstanceDown', 'OutboxBacklogLarge', 'OutboxBacklogStale', 'PaymentFailureRatioHigh', 'ServiceDown', 'ServiceTargetsGone'],
    );
  });

  it.each(alerts.map(({ file, rule }) => [rule.alert, file, rule] as const))('%s (%s) has a severity, a summary, a description and a for:', (_alert, _file, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toMatch(/\S/);
    expect(rule.annotations?.description).toMatch(/\S/);
    expect(rule.for).toMatch(/^\d+[smh]$/);
  });

  it.each(alerts.map(({ file, rule }) => [rule.alert, file] as const))('%s (%s) has a unit test where it fires and one where it does not', (alert, file) => {
    const testFile = file.replace('.rules.yml', '.test.yml');
    expect(ruleTestFileNames()).toContain(testFile);
    const suite = readYaml<{ rule_files: string[]; tests: { alert_rule_test?: AlertTest[] }[] }>(join(RULES_DIR, testFile));
    expect(suite.rule_files).toContain(file);
    const cases = suite.tests.flatMap((test) => test.alert_rule_test ?? []).filter((c) => c.alertname === alert);
    expect(cases.some((c) => (c.exp_alerts ?? []).length > 0), 'a firing case').toBe(true);
    expect(cases.some((c) => (c.exp_alerts ?? []).length === 0), 'a not-firing case').toBe(true);
  });
});

interface ScrapeJob {
  job_name: string;
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  kubernetes_sd_configs?: { role: string; namespaces?: { names?: string[] } }[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string; replacement?: string }[];
}

describe('the scrape configs', () => {
  const compose = readYaml<{ rule_files: string[]; scrape_configs: ScrapeJob[] }>(join(PROMETHEUS_DIR, 'prometheus.compose.yml'));
  const kubernetes = readYaml<{ rule_files: string[]; scrape_configs: ScrapeJob[] }>(join(PROMETHEUS_DIR, 'prometheus.k8s.yml'));

  it('load the rule files from the same place', () => {
    expect(compose.rule_files).toEqual([RULES_GLOB]);
    expect(kubernetes.rule_files).toEqual([RULES_GLOB]);
  });

  it('Compose: one job per app, each container of the service its own target (DNS type A), labelled app', () => {
    for (const [app, port] of Object.entries(SCRAPED_APPS)) {
      const job = compose.scrape_configs.find((j) => j.job_name === app);
      expect(job?.dns_sd_configs, app).toEqual([expect.objectContaining({ names: [app], type: 'A', port })]);
      expect(job?.relabel_configs).toContainEqual({ target_label: 'app', replacement: app });
    }
  });

  it('Kubernetes: pods of namespace portal, only those annotated for scraping, labelled app/pod/namespace', () => {
    const job = kubernetes.scrape_configs.find((j) => j.kubernetes_sd_configs);
    expect(job?.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['portal'] } }]);
    const relabel = job?.relabel_configs ?? [];
    expect(relabel[0]).toEqual({ source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' });
    const targets = Object.fromEntries(relabel.filter((r) => r.target_label).map((r) => [r.target_label, r.source_labels]));
    expect(targets).toMatchObject({
      __metrics_path__: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
      __address__: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
      app: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'],
      pod: ['__meta_kubernetes_pod_name'],
      namespace: ['__meta_kubernetes_namespace'],
    });
  });

  it('Compose (deploy/compose) runs every scraped app under its job name and mounts the config and rules where they are expected', () => {
    const file = join(MONITORING_DIR, '../compose/docker-compose.yml');
    expect(existsSync(file), `${file} (written with deploy/compose)`).toBe(true);
    const { services } = readYaml<{ services: Record<string, { volumes?: string[] }> }>(file);
    for (const app of Object.keys(SCRAPED_APPS)) expect(Object.keys(services), app).toContain(app);
    const volumes = services.prometheus?.volumes ?? [];
    expect(volumes).toContain('../monitoring/prometheus/prometheus.compose.yml:/etc/prometheus/prometheus.yml:ro');
    expect(volumes).toContain(`../monitoring/prometheus/rules:${RULES_MOUNT}:ro`);
  });
});
