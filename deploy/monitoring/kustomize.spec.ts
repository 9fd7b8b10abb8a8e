import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DASHBOARDS_DIR, GRAFANA_DIR, MONITORING_DIR, PROMETHEUS_DIR, RULES_DIR, RULES_MOUNT, SCRAPED_APPS, dashboardFileNames, ruleFileNames } from './monitoring.files.js';

/**
 * deploy/monitoring/kustomization.yaml, built with kustomize (or kubectl's
 * built-in kustomize) and checked offline: every object against the
 * Kubernetes schemas, the ConfigMaps against the files they are made from,
 * and the Deployments against what Prometheus and Grafana need (mounts where
 * the configs expect them, discovery rights, security contexts, probes,
 * requests and limits). No cluster runs here.
 */

/** The kustomize that is on PATH: `kustomize build` or `kubectl kustomize`. */
function findKustomize(): readonly [string, string] {
  const candidates = [
    ['kustomize', 'build', ['version']],
    // Without --client, kubectl also asks a cluster for its version, and there is none.
    ['kubectl', 'kustomize', ['version', '--client']],
  ] as const;
  for (const [command, subcommand, probe] of candidates) {
    try {
      execFileSync(command, probe, { stdio: 'ignore' });
      return [command, subcommand];
    } catch {
      // Not installed: try the next one.
    }
  }
  throw new Error(
    'This test builds deploy/monitoring with kustomize: neither `kustomize` nor `kubectl` is on PATH.\n' +
      'Install one: `GOBIN=/usr/local/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0`, or kubectl (https://kubernetes.io/docs/tasks/tools/).',
  );
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

type Container = NonNullable<Deployment['spec']>['template']['spec'] extends infer S ? (S extends { containers: (infer C)[] } ? C : never) : never;

const VALIDATORS: Record<string, (object: K8sObject) => void> = {
  Deployment: (o) => new Deployment(o as unknown as Deployment).validate(),
  Service: (o) => new Service(o as unknown as Service).validate(),
  ConfigMap: (o) => new ConfigMap(o as unknown as ConfigMap).validate(),
  ServiceAccount: (o) => new ServiceAccount(o as unknown as ServiceAccount).validate(),
  Role: (o) => new Role(o as unknown as Role).validate(),
  RoleBinding: (o) => new RoleBinding(o as unknown as RoleBinding).validate(),
};

describe('deploy/monitoring/kustomization.yaml', () => {
  let objects: K8sObject[];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the build`);
    return found;
  };
  /** A generated ConfigMap, by the name before kustomize adds its hash. */
  const generated = (name: string) => {
    const found = byKind('ConfigMap').find((o) => new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name));
    if (!found) throw new Error(`no generated ConfigMap ${name}`);
    return found as unknown as { metadata: { name: string }; data: Record<string, string> };
  };
  const deployment = (name: string) => find('Deployment', name) as unknown as Deployment;
  const container = (name: string) => deployment(name).spec?.template.spec?.containers[0] as Container;
  /** Where a Deployment mounts a ConfigMap (by its generated name). */
  const mountOf = (name: string, configMap: string) => {
    const pod = deployment(name).spec?.template.spec;
    const volume = pod?.volumes?.find((v) => v.configMap?.name === generated(configMap).metadata.name);
    return container(name).volumeMounts?.find((m) => m.name === volume?.name)?.mountPath;
  };

  beforeAll(() => {
    const [command, subcommand] = findKustomize();
    const output = execFileSync(command, [subcommand, MONITORING_DIR], { encoding: 'utf8' });
    objects = parseAllDocuments(output).map((document) => document.toJS() as K8sObject);
  });

  it('builds Prometheus and Grafana, with their RBAC, Services and ConfigMaps, in namespace portal', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual([
      'ConfigMap/grafana-dashboard-providers',
      'ConfigMap/grafana-dashboards',
      'ConfigMap/grafana-datasources',
      'ConfigMap/prometheus-config',
      'ConfigMap/prometheus-rules',
      'Deployment/grafana',
      'Deployment/prometheus',
      'Role/prometheus',
      'RoleBinding/prometheus',
      'Service/grafana',
      'Service/prometheus',
      'ServiceAccount/prometheus',
    ]);
    for (const o of objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('portal');
  });

  it('passes the Kubernetes schemas', () => {
    for (const o of objects) {
      const validate = VALIDATORS[o.kind];
      expect(validate, `a validator for ${o.kind}`).toBeDefined();
      expect(() => validate?.(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('makes the ConfigMaps from the very files Compose mounts: every rule file and dashboard, unchanged', () => {
    expect(generated('prometheus-config').data).toEqual({ 'prometheus.yml': readFileSync(join(PROMETHEUS_DIR, 'prometheus.k8s.yml'), 'utf8') });
    expect(generated('prometheus-rules').data).toEqual(Object.fromEntries(ruleFileNames().map((f) => [f, readFileSync(join(RULES_DIR, f), 'utf8')])));
    expect(generated('grafana-dashboards').data).toEqual(Object.fromEntries(dashboardFileNames().map((f) => [f, readFileSync(join(DASHBOARDS_DIR, f), 'utf8')])));
    expect(generated('grafana-datasources').data).toEqual({ 'prometheus.yml': readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/prometheus.yml'), 'utf8') });
    expect(generated('grafana-dashboard-providers').data).toEqual({ 'portal.yml': readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/portal.yml'), 'utf8') });
  });

  it('mounts the Prometheus config and rules where the config and its rule_files say', () => {
    const prometheus = container('prometheus');
    expect(prometheus.image).toBe('prom/prometheus:v2.42.0');
    const configFile = prometheus.args?.find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length) ?? '';
    expect(mountOf('prometheus', 'prometheus-config')).toBe(dirname(configFile));
    expect(basename(configFile)).toBe('prometheus.yml');
    expect(mountOf('prometheus', 'prometheus-rules')).toBe(RULES_MOUNT);
    const config = parse(generated('prometheus-config').data['prometheus.yml'] ?? '') as { rule_files: string[] };
    expect(config.rule_files.every((glob) => dirname(glob) === RULES_MOUNT)).toBe(true);
    const storage = prometheus.args?.find((a) => a.startsWith('--storage.tsdb.path='))?.split('=')[1];
    expect(prometheus.volumeMounts?.map((m) => m.mountPath)).toContain(storage);
  });

  it('lets Prometheus list and watch the pods of namespace portal, and nothing more', () => {
    expect(deployment('prometheus').spec?.template.spec?.serviceAccountName).toBe('prometheus');
    const role = find('Role', 'prometheus') as unknown as Role;
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    const binding = find('RoleBinding', 'prometheus') as unknown as RoleBinding;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'prometheus' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'portal' }]);
  });

  it('mounts the Grafana provisioning where Grafana reads it and the dashboards where the provider looks', () => {
    expect(container('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(mountOf('grafana', 'grafana-datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(mountOf('grafana', 'grafana-dashboard-providers')).toBe('/etc/grafana/provisioning/dashboards');
    const providers = parse(generated('grafana-dashboard-providers').data['portal.yml'] ?? '') as { providers: { options: { path: string } }[] };
    expect(mountOf('grafana', 'grafana-dashboards')).toBe(providers.providers[0]?.options.path);
  });

  it.each(['prometheus', 'grafana'])('%s: security context, probes on its port, requests and limits', (name) => {
    const pod = deployment(name).spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod?.containers).toHaveLength(1);
    const c = container(name);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const ports = (c.ports ?? []).map((p) => p.name);
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      expect(probe?.httpGet?.path, `${name} probe`).toMatch(/^\//);
      expect(ports).toContain(probe?.httpGet?.port);
    }
    for (const kind of ['requests', 'limits'] as const) {
      expect(c.resources?.[kind], `${name} ${kind}`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    }
    // Read-only root: everything it writes goes to a volume.
    expect(c.volumeMounts?.filter((m) => !m.readOnly).length).toBeGreaterThan(0);
  });

  it.each(['prometheus', 'grafana'])('%s: its Service selects its pods and targets a port they declare', (name) => {
    const service = find('Service', name) as unknown as Service;
    const template = deployment(name).spec?.template;
    for (const [key, value] of Object.entries(service.spec?.selector ?? {})) expect(template?.metadata?.labels?.[key]).toBe(value);
    expect(Object.keys(service.spec?.selector ?? {}).length).toBeGreaterThan(0);
    const ports = (container(name).ports ?? []).map((p) => p.name);
    for (const port of service.spec?.ports ?? []) expect(ports).toContain(port.targetPort);
    // The label deploy/k8s's NetworkPolicies select Prometheus and Grafana by.
    expect(template?.metadata?.labels?.['app.kubernetes.io/name']).toBe(name);
  });

  it("deploy/k8s's app pods carry what prometheus.k8s.yml keeps and labels them by", () => {
    const base = join(MONITORING_DIR, '../k8s/base');
    expect(existsSync(base), `${base} (written with deploy/k8s)`).toBe(true);
    const templates = new Map<string, { labels?: Record<string, string>; annotations?: Record<string, string> }>();
    for (const file of readdirSync(base).filter((f) => f.endsWith('.yaml'))) {
      for (const document of parseAllDocuments(readFileSync(join(base, file), 'utf8'))) {
        const o = document.toJS() as (K8sObject & { spec?: { template?: { metadata?: object } } }) | null;
        if (o?.kind === 'Deployment' && o.spec?.template?.metadata) templates.set(o.metadata.name, o.spec.template.metadata);
      }
    }
    const apps = Object.entries(SCRAPED_APPS).filter(([app]) => templates.has(app));
    // Every app but the monolith, which runs in Compose only.
    expect(apps.map(([app]) => app).sort()).toEqual(Object.keys(SCRAPED_APPS).filter((app) => app !== 'monolith').sort());
    for (const [app, port] of apps) {
      const metadata = templates.get(app);
      expect(metadata?.annotations, app).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
      expect(metadata?.labels?.['app.kubernetes.io/name'], app).toBe(app);
    }
  });
});
