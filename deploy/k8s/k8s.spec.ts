/**
 * The Kubernetes manifests, offline and strict: every overlay builds with
 * kustomize; every object validates against the Kubernetes schemas; policy
 * (probes, resources, security, HPA, Ingress, NetworkPolicies simulated pod by
 * pod); and consistency with the code: the env vars, ports, probe paths and
 * images the manifests name are the ones the apps read and serve, asked of
 * the apps' own config functions and of the apps themselves, started here.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@portal/config';
import { SERVICES, gatewayConfig, startGateway } from '@portal/api-gateway';
import { startHost } from '@portal/host';
import { startTestHost } from '@portal/host/testing';
import type { DomainDefinition } from '@portal/host';
import { authDomain } from '@portal/auth';
import { newsDomain } from '@portal/news';
import { blogDomain } from '@portal/blog';
import { webtoonDomain } from '@portal/webtoon';
import { paymentDomain } from '@portal/payment';
import { analyticsDomain } from '@portal/analytics';
import { KAFKA_VERSION, UPSTREAM_IMAGES } from '@portal/testing';
import { buildKustomization, findKustomize } from './kustomize.js';
import type { KubeObject } from './kustomize.js';
import { appOfImage, containerEnv, find, generatedSecrets, ofKind, portalContainer, quantity, spec, workloads } from './manifests.js';
import type { Container, Workload } from './manifests.js';
import { allowed, matchesSelector } from './network.js';
import type { Endpoint, LabelSelector, NetworkModel, NetworkPolicy, PodEndpoint } from './network.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy/k8s');
const NAMESPACE = 'portal';

// ---------------------------------------------------------------- the apps, from their code

/** The identifiers apps/<app>/src/main.ts may name in `domains: [...]`. */
const DOMAIN_EXPORTS: Record<string, DomainDefinition> = {
  authDomain,
  newsDomain,
  blogDomain,
  webtoonDomain,
  paymentDomain,
  analyticsDomain,
};

interface App {
  readonly name: string;
  /** What runHost is given, read from apps/<app>/src/main.ts; undefined for the gateway. */
  readonly host?: { service: string; domains: DomainDefinition[]; defaultPort: number; shape: 'service' | 'monolith' };
}

/** Every deployable app: a folder under apps/ with a start script. */
function readApps(): App[] {
  return readdirSync(join(ROOT, 'apps'))
    .filter((name) => {
      const file = join(ROOT, 'apps', name, 'package.json');
      return existsSync(file) && Boolean((JSON.parse(readFileSync(file, 'utf8')) as { scripts?: { start?: string } }).scripts?.start);
    })
    .map((name): App => {
      const main = readFileSync(join(ROOT, 'apps', name, 'src/main.ts'), 'utf8');
      if (!/\brunHost\(/.test(main)) return { name };
      const service = /service:\s*'([^']+)'/.exec(main)?.[1];
      const port = /defaultPort:\s*(\d+)/.exec(main)?.[1];
      const list = /domains:\s*\[([^\]]*)\]/.exec(main)?.[1];
      if (!service || !port || list === undefined) throw new Error(`apps/${name}/src/main.ts: cannot read runHost's service, defaultPort and domains`);
      const domains = list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((id) => {
          const domain = DOMAIN_EXPORTS[id];
          if (!domain) throw new Error(`apps/${name} hosts ${id}; import it into DOMAIN_EXPORTS in this test`);
          return domain;
        });
      return { name, host: { service, domains, defaultPort: Number(port), shape: /shape:\s*'monolith'/.test(main) ? 'monolith' : 'service' } };
    });
}

const APPS = readApps();
const appNamed = (name: string) => {
  const app = APPS.find((a) => a.name === name);
  if (!app) throw new Error(`no app ${name} under apps/`);
  return app;
};

/** Records every variable the code reads from an env object. */
function recordingEnv(values: Readonly<Record<string, string | undefined>>, overrides: Record<string, string> = {}) {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, key) {
      if (typeof key !== 'string') return undefined;
      read.add(key);
      return Object.hasOwn(overrides, key) ? overrides[key] : values[key];
    },
  });
  return { env, read };
}

/**
 * The variables a host app reads, and those of `env` it rejects: its own
 * startHost, with PORT made invalid so that it stops at its config check
 * (every variable is read before any is checked) and starts nothing.
 */
async function hostReads(app: App, env: Readonly<Record<string, string | undefined>>) {
  if (!app.host) throw new Error(`${app.name} is not a host app`);
  const recording = recordingEnv(env, { PORT: 'not-a-port' });
  const outcome = await startHost({ ...app.host, env: recording.env }).then(
    async (host) => {
      await host.close();
      return new Error(`${app.name} started although PORT was invalid`);
    },
    (error: unknown) => error,
  );
  if (!(outcome instanceof ConfigError)) throw outcome;
  const rejected = [...outcome.message.matchAll(/^ {2}([A-Z0-9_]+):/gm)].map((m) => m[1] as string).filter((n) => n !== 'PORT');
  return { read: recording.read, rejected, message: outcome.message };
}

// ---------------------------------------------------------------- the manifests

interface Built {
  readonly name: string;
  readonly dir: string;
  readonly objects: KubeObject[];
}

/** What a workload's pods request in total: init containers run alone, before the others. */
function requested(objects: readonly KubeObject[], w: Workload): { cpu: number; memory: number } {
  const sum = (list: Container[], r: 'cpu' | 'memory') => list.reduce((n, c) => n + quantity(c.resources?.requests?.[r] ?? '0'), 0);
  const max = (list: Container[], r: 'cpu' | 'memory') => Math.max(0, ...list.map((c) => quantity(c.resources?.requests?.[r] ?? '0')));
  const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((h) => spec<{ scaleTargetRef: { name: string } }>(h).scaleTargetRef.name === w.name);
  const replicas = w.replicas ?? (hpa ? spec<{ minReplicas?: number }>(hpa).minReplicas ?? 1 : 1);
  const per = (r: 'cpu' | 'memory') => Math.max(sum(w.spec.containers, r), max(w.spec.initContainers ?? [], r));
  return { cpu: per('cpu') * replicas, memory: per('memory') * replicas };
}

const MONITORING_KUSTOMIZATION = join(ROOT, 'deploy/monitoring/kustomization.yaml');

// ---------------------------------------------------------------- the builds

// local-standins is local for machines that cannot pull images (stand-in
// images under their own names, no Grafana): it has tests of its own below,
// and the upstream-image checks hold for every other overlay.
const STANDINS = 'local-standins';
const OVERLAYS = readdirSync(join(K8S, 'overlays'))
  .filter((name) => name !== STANDINS)
  .sort();
let command: readonly string[];
let base: Built;
const overlays: Built[] = [];

/**
 * The kustomization in `dir` with the Secrets its workloads name, as they are
 * on a cluster: the builds hold none (no password in git; secrets.spec.ts),
 * cluster:up or an admin creates them from deploy/scripts/portal-secrets.sh.
 */
const build = (dir: string): KubeObject[] => [...buildKustomization(dir, command), ...generatedSecrets()];

beforeAll(() => {
  command = findKustomize();
  base = { name: 'base', dir: join(K8S, 'base'), objects: build(join(K8S, 'base')) };
  for (const name of OVERLAYS) {
    const dir = join(K8S, 'overlays', name);
    overlays.push({ name, dir, objects: build(dir) });
  }
}, 180_000);

const every = () => [base, ...overlays];
const overlay = (name: string) => {
  const built = overlays.find((o) => o.name === name);
  if (!built) throw new Error(`no overlay ${name}`);
  return built;
};

describe('kustomize', () => {
  it('builds the base and every overlay, local and production among them', () => {
    expect(OVERLAYS).toEqual(expect.arrayContaining(['local', 'production']));
    for (const built of every()) expect(built.objects.length, built.name).toBeGreaterThan(20);
  });

  it('validates every object against the Kubernetes schemas', async () => {
    for (const built of every()) {
      for (const object of built.objects) {
        const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
        const module = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
        const models = (await import(module).catch((error: unknown) => {
          throw new Error(`${built.name}: no schema for ${object.apiVersion} ${object.kind} (${module})`, { cause: error });
        })) as Record<string, new (data: unknown) => { validate(): void }>;
        const Model = models[object.kind];
        if (!Model) throw new Error(`${module} exports no ${object.kind}`);
        try {
          new Model(object).validate();
        } catch (error) {
          throw new Error(`${built.name}: ${object.kind} ${object.metadata.name} is invalid: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  });

  it('puts every namespaced object in the portal namespace, which enforces the restricted pod security standard', () => {
    for (const built of every()) {
      const namespace = find(built.objects, 'Namespace', NAMESPACE);
      expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], built.name).toBe('restricted');
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'IngressClass'];
      for (const object of built.objects.filter((o) => !clusterScoped.includes(o.kind))) {
        expect(object.metadata.namespace, `${built.name}: ${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
      }
    }
  });

  it('includes Prometheus and Grafana (deploy/monitoring) in every overlay once that kustomization exists', () => {
    if (!existsSync(MONITORING_KUSTOMIZATION)) {
      // Not there yet: nothing to include. The moment it lands this test asks for it.
      expect(overlays.every((o) => !workloads(o.objects).some((w) => w.labels['app.kubernetes.io/name'] === 'prometheus'))).toBe(true);
      return;
    }
    for (const built of overlays) {
      const names = workloads(built.objects).map((w) => w.labels['app.kubernetes.io/name']);
      expect(names, `${built.name}: add "- ../../../monitoring" to its resources`).toEqual(expect.arrayContaining(['prometheus', 'grafana']));
    }
  });
});

describe('policy', () => {
  it('gives every container requests and limits, and every long-running one readiness and liveness probes', () => {
    for (const built of every()) {
      for (const w of workloads(built.objects)) {
        for (const c of [...w.spec.containers, ...(w.spec.initContainers ?? [])]) {
          const where = `${built.name}: ${w.kind} ${w.name}, container ${c.name}`;
          for (const kind of ['requests', 'limits'] as const) {
            for (const resource of ['cpu', 'memory']) {
              const value = c.resources?.[kind]?.[resource];
              expect(value, `${where}: ${kind}.${resource}`).toBeDefined();
              expect(quantity(value as string), `${where}: ${kind}.${resource}`).toBeGreaterThan(0);
            }
          }
          // A limit below its request is rejected by the API server.
          for (const resource of ['cpu', 'memory']) {
            expect(quantity(c.resources?.limits?.[resource] as string), where).toBeGreaterThanOrEqual(quantity(c.resources?.requests?.[resource] as string));
          }
        }
        for (const c of w.spec.containers) {
          expect(c.readinessProbe, `${built.name}: ${w.name}/${c.name} readinessProbe`).toBeDefined();
          expect(c.livenessProbe, `${built.name}: ${w.name}/${c.name} livenessProbe`).toBeDefined();
        }
      }
    }
  });

  it('runs every container non-root, read-only, without privileges or capabilities, under seccomp', () => {
    for (const built of every()) {
      for (const w of workloads(built.objects)) {
        const pod = w.spec.securityContext ?? {};
        expect(w.spec.hostNetwork || w.spec.hostPID || w.spec.hostIPC, `${built.name}: ${w.name} shares a host namespace`).toBeFalsy();
        expect((w.spec.volumes ?? []).filter((v) => v.hostPath), `${built.name}: ${w.name} mounts a host path`).toEqual([]);
        for (const c of [...w.spec.containers, ...(w.spec.initContainers ?? [])]) {
          const where = `${built.name}: ${w.kind} ${w.name}, container ${c.name}`;
          const own = c.securityContext ?? {};
          expect(own.runAsNonRoot ?? pod.runAsNonRoot, `${where}: runAsNonRoot`).toBe(true);
          expect(own.runAsUser ?? pod.runAsUser, `${where}: runAsUser (numeric, so the kubelet can check it)`).toBeGreaterThan(0);
          expect((own.seccompProfile ?? pod.seccompProfile)?.type, `${where}: seccompProfile`).toBe('RuntimeDefault');
          expect(own.allowPrivilegeEscalation, `${where}: allowPrivilegeEscalation`).toBe(false);
          expect(own.privileged ?? false, `${where}: privileged`).toBe(false);
          expect(own.readOnlyRootFilesystem, `${where}: readOnlyRootFilesystem`).toBe(true);
          expect(own.capabilities?.drop, `${where}: capabilities.drop`).toContain('ALL');
          expect(own.capabilities?.add ?? [], `${where}: capabilities.add`).toEqual([]);
        }
      }
    }
  });

  it('gives the apps a writable /tmp and no API token, since they never call the API server', () => {
    for (const built of every()) {
      for (const w of workloads(built.objects).filter((x) => portalContainer(x))) {
        expect(w.spec.automountServiceAccountToken, `${built.name}: ${w.name}`).toBe(false);
        const c = portalContainer(w) as Container;
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp, `${built.name}: ${w.name} mounts /tmp`).toBeDefined();
        expect(w.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${built.name}: ${w.name} /tmp is an emptyDir`).toBeDefined();
      }
    }
  });

  it('covers every workload with exactly one PodDisruptionBudget that lets one pod go', () => {
    for (const built of every()) {
      const budgets = ofKind(built.objects, 'PodDisruptionBudget').map((p) => spec<{ selector: { matchLabels: Record<string, string> }; maxUnavailable?: number }>(p));
      for (const w of workloads(built.objects)) {
        const matching = budgets.filter((b) => Object.entries(b.selector.matchLabels).every(([k, v]) => w.labels[k] === v));
        expect(matching.length, `${built.name}: PDBs selecting ${w.name}`).toBe(1);
        // maxUnavailable, not minAvailable: with one replica (the local overlay) minAvailable 1 would block every node drain.
        expect(matching[0]?.maxUnavailable, `${built.name}: ${w.name} PDB maxUnavailable`).toBe(1);
      }
    }
  });

  it('autoscales webtoon, and only webtoon, with an autoscaling/v2 HPA that owns its replica count', () => {
    for (const built of every()) {
      const hpas = ofKind(built.objects, 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => `${h.apiVersion} ${spec<{ scaleTargetRef: { kind: string; name: string } }>(h).scaleTargetRef.kind}/${spec<{ scaleTargetRef: { name: string } }>(h).scaleTargetRef.name}`), built.name).toEqual([
        'autoscaling/v2 Deployment/webtoon',
      ]);
      const hpa = spec<{ minReplicas: number; maxReplicas: number }>(hpas[0] as KubeObject);
      expect(hpa.minReplicas, built.name).toBeGreaterThanOrEqual(1);
      expect(hpa.maxReplicas, built.name).toBeGreaterThan(hpa.minReplicas);
      // A replicas field would be re-applied over the HPA's choice on every `kubectl apply`.
      expect(workloads(built.objects).find((w) => w.name === 'webtoon')?.replicas, built.name).toBeUndefined();
    }
  });

  it('exposes only the gateway: the Ingress backends, NodePorts and LoadBalancers all lead to gateway pods', () => {
    for (const built of every()) {
      const ingresses = ofKind(built.objects, 'Ingress');
      expect(ingresses.length, built.name).toBeGreaterThan(0);
      const backends = ingresses.flatMap((i) =>
        spec<{ rules?: { http?: { paths: { backend: { service: { name: string } } }[] } }[]; defaultBackend?: { service: { name: string } } }>(i).rules?.flatMap((r) => r.http?.paths.map((p) => p.backend.service.name) ?? []) ?? [],
      );
      expect(new Set(backends), built.name).toEqual(new Set(['gateway']));
      const exposed = ofKind(built.objects, 'Service').filter((s) => ['NodePort', 'LoadBalancer'].includes(spec<{ type?: string }>(s).type ?? 'ClusterIP'));
      for (const service of [find(built.objects, 'Service', 'gateway'), ...exposed]) {
        const selector = spec<{ selector: Record<string, string> }>(service).selector;
        const selected = workloads(built.objects).filter((w) => Object.entries(selector).every(([k, v]) => w.labels[k] === v));
        expect(selected.map((w) => w.name), `${built.name}: Service ${service.metadata.name}`).toEqual(['gateway']);
        // Only the public port: /metrics and the admin API are for the cluster's own eyes.
        const ports = spec<{ ports: { targetPort?: number | string; port: number }[] }>(service).ports.map((p) => p.targetPort ?? p.port);
        expect(ports, `${built.name}: Service ${service.metadata.name}`).toEqual(['http']);
      }
      for (const ingress of ingresses) {
        const ports = spec<{ rules?: { http?: { paths: { backend: { service: { port: { name?: string; number?: number } } } }[] } }[] }>(ingress).rules?.flatMap((r) => r.http?.paths.map((p) => p.backend.service.port) ?? []);
        expect(ports, `${built.name}: Ingress ${ingress.metadata.name}`).toEqual(ports?.map(() => ({ name: 'http' })));
      }
    }
  });

  it('resolves every Service to pods that declare its target port', () => {
    for (const built of every()) {
      for (const service of ofKind(built.objects, 'Service')) {
        const s = spec<{ selector?: Record<string, string>; ports: { port: number; targetPort?: number | string }[] }>(service);
        const selected = workloads(built.objects).filter((w) => Object.entries(s.selector ?? {}).every(([k, v]) => w.labels[k] === v));
        expect(selected.length, `${built.name}: Service ${service.metadata.name} selects no pods`).toBeGreaterThan(0);
        for (const port of s.ports) {
          const target = port.targetPort ?? port.port;
          for (const w of selected) {
            const declared = w.spec.containers.flatMap((c) => c.ports ?? []);
            expect(declared.some((p) => (typeof target === 'number' ? p.containerPort === target : p.name === target)), `${built.name}: Service ${service.metadata.name} port ${target} on ${w.name}`).toBe(true);
          }
        }
      }
    }
  });

  it('spreads production pods with constraints that select the workload\'s own pods', () => {
    const spread = workloads(overlay('production').objects).filter((w) => w.kind === 'Deployment');
    expect(spread.length).toBeGreaterThan(0);
    for (const w of spread) {
      const constraints = (w.spec as unknown as { topologySpreadConstraints?: { labelSelector: LabelSelector; matchLabelKeys?: string[] }[] }).topologySpreadConstraints ?? [];
      expect(constraints.length, w.name).toBeGreaterThan(0);
      for (const constraint of constraints) {
        expect(matchesSelector(constraint.labelSelector, w.labels), `${w.name}: its spread selector matches its pods`).toBe(true);
        for (const key of constraint.matchLabelKeys ?? []) expect(w.labels[key], `${w.name}: matchLabelKeys ${key}`).toBeDefined();
      }
    }
  });

  it('annotates every app pod for Prometheus: scrape, its metrics port (the gateway\'s own, the others\' HTTP port), /metrics, and its name label', () => {
    for (const built of every()) {
      for (const w of workloads(built.objects).filter((x) => portalContainer(x))) {
        const c = portalContainer(w) as Container;
        const app = appOfImage(c.image);
        expect(w.labels['app.kubernetes.io/name'], `${built.name}: ${w.name}`).toBe(app);
        expect(w.annotations['prometheus.io/scrape'], `${built.name}: ${w.name}`).toBe('true');
        expect(w.annotations['prometheus.io/path'], `${built.name}: ${w.name}`).toBe('/metrics');
        const scraped = app === 'gateway' ? c.ports?.find((p) => p.name === 'metrics') : c.ports?.find((p) => p.name === 'http');
        expect(scraped, `${built.name}: ${w.name}'s metrics port`).toBeDefined();
        expect(Number(w.annotations['prometheus.io/port']), `${built.name}: ${w.name}`).toBe(scraped?.containerPort);
      }
    }
  });

  it('keeps the local overlay laptop-sized: one pod each, one broker, the requests docs/deploy.md states, under its budget', () => {
    const local = overlay('local');
    for (const w of workloads(local.objects)) {
      expect(w.replicas ?? 1, w.name).toBe(1);
    }
    const hpa = spec<{ minReplicas: number }>(find(local.objects, 'HorizontalPodAutoscaler', 'webtoon'));
    expect(hpa.minReplicas).toBe(1);
    const total = workloads(local.objects).reduce(
      (sum, w) => {
        const r = requested(local.objects, w);
        return { cpu: sum.cpu + r.cpu, memory: sum.memory + r.memory };
      },
      { cpu: 0, memory: 0 },
    );
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const stated = /requests \*\*([\d.]+) CPU and ([\d.]+) GiB\*\* of memory in total \(budget: at most ([\d.]+) CPUs? and ([\d.]+) GiB\)/.exec(docs);
    if (!stated) throw new Error('docs/deploy.md must say: "requests **<cpu> CPU and <mem> GiB** of memory in total (budget: at most <cpu> CPUs and <mem> GiB)"');
    const [, cpu, memory, budgetCpu, budgetMemory] = stated.map(Number);
    console.log(`local overlay requests ${total.cpu.toFixed(2)} CPU and ${(total.memory / 2 ** 30).toFixed(2)} GiB`);
    expect({ cpu: Number(total.cpu.toFixed(2)), memory: Number((total.memory / 2 ** 30).toFixed(2)) }, 'the totals docs/deploy.md states').toEqual({ cpu, memory });
    expect(total.cpu).toBeLessThanOrEqual(budgetCpu as number);
    expect(total.memory).toBeLessThanOrEqual((budgetMemory as number) * 2 ** 30);
  });
});

describe('consistency with the code', () => {
  it('deploys every app under apps/ but the monolith, each as portal/<app>, :local in the local overlay', () => {
    const expected = APPS.map((a) => a.name).filter((n) => n !== 'monolith').sort();
    for (const built of every()) {
      const images = workloads(built.objects).flatMap((w) => w.spec.containers.map((c) => c.image)).filter((i) => appOfImage(i));
      expect(images.map((i) => appOfImage(i)).sort(), built.name).toEqual(expected);
      for (const w of workloads(built.objects).filter((x) => portalContainer(x))) {
        expect(w.name, built.name).toBe(appOfImage(portalContainer(w)?.image as string));
      }
    }
    for (const w of workloads(overlay('local').objects)) {
      for (const c of w.spec.containers.filter((x) => appOfImage(x.image))) {
        expect(c.image).toBe(`portal/${w.name}:local`);
        // kind loads these images into its node; they exist in no registry.
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });

  it('runs the app containers as the user the image declares (deploy/docker/Dockerfile)', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\d+)(?::(\d+))?\s*$/gm)];
    const final = users.at(-1);
    if (!final) throw new Error('deploy/docker/Dockerfile has no numeric USER line; runAsNonRoot needs a numeric user to check');
    for (const built of every()) {
      for (const w of workloads(built.objects).filter((x) => portalContainer(x))) {
        const c = portalContainer(w) as Container;
        expect(c.securityContext?.runAsUser ?? w.spec.securityContext?.runAsUser, `${built.name}: ${w.name} runAsUser`).toBe(Number(final[1]));
        if (final[2]) expect(w.spec.securityContext?.runAsGroup ?? final[2], `${built.name}: ${w.name} runAsGroup`).toBe(Number(final[2]));
      }
    }
  });

  it('runs the project\'s Kafka version and PostgreSQL image', () => {
    for (const built of every()) {
      const images = (name: string) => {
        const w = workloads(built.objects).find((x) => x.name === name);
        return [...(w?.spec.containers ?? []), ...(w?.spec.initContainers ?? [])].map((c) => c.image);
      };
      expect(new Set(images('kafka')), built.name).toEqual(new Set([UPSTREAM_IMAGES.kafka]));
      expect(UPSTREAM_IMAGES.kafka).toBe(`apache/kafka:${KAFKA_VERSION}`);
      expect(new Set(images('postgres')), built.name).toEqual(new Set([UPSTREAM_IMAGES.postgres]));
    }
  });

  it('sets on each host app only variables it reads, each with a value it accepts, and PORT equal to its container port', async () => {
    for (const built of every()) {
      for (const w of workloads(built.objects).filter((x) => portalContainer(x) && appNamed(x.name).host)) {
        const c = portalContainer(w) as Container;
        const env = containerEnv(built.objects, c);
        const { read, rejected, message } = await hostReads(appNamed(w.name), env);
        const unread = Object.keys(env).filter((k) => !read.has(k));
        expect(unread, `${built.name}: ${w.name} sets variables the app never reads`).toEqual([]);
        expect(rejected, `${built.name}: ${w.name} sets values the app rejects:\n${message}`).toEqual([]);
        const http = c.ports?.find((p) => p.name === 'http')?.containerPort;
        expect(Number(env.PORT), `${built.name}: ${w.name} PORT`).toBe(http);
        // The gateway's idea of the service's port, the app's own default and the manifest agree.
        expect(http, `${built.name}: ${w.name}`).toBe(SERVICES[w.name as keyof typeof SERVICES]);
        expect(http, `${built.name}: ${w.name}`).toBe(appNamed(w.name).host?.defaultPort);
      }
    }
  });

  it('points each service at its own database, user and password, which PostgreSQL\'s init creates', () => {
    for (const built of every()) {
      const postgres = workloads(built.objects).find((w) => w.name === 'postgres') as Workload;
      const postgresEnv = containerEnv(built.objects, postgres.spec.containers[0] as Container);
      const dbService = find(built.objects, 'Service', 'postgres');
      const dbPort = spec<{ ports: { port: number }[] }>(dbService).ports[0]?.port;
      const services = workloads(built.objects).filter((w) => portalContainer(w) && appNamed(w.name).host);
      for (const w of services) {
        const url = new URL(containerEnv(built.objects, portalContainer(w) as Container).DATABASE_URL ?? '');
        expect(`${url.protocol}//${url.hostname}:${url.port}${url.pathname}`, `${built.name}: ${w.name}`).toBe(`postgres://postgres:${dbPort}/${w.name}`);
        expect(url.username, `${built.name}: ${w.name}`).toBe(w.name);
        expect(postgresEnv[`${w.name.toUpperCase()}_DB_PASSWORD`], `${built.name}: ${w.name}'s password in PostgreSQL`).toBe(decodeURIComponent(url.password));
      }
      const passwords = Object.keys(postgresEnv).filter((k) => k.endsWith('_DB_PASSWORD')).map((k) => k.replace(/_DB_PASSWORD$/, '').toLowerCase());
      expect(passwords.sort(), `${built.name}: databases PostgreSQL creates`).toEqual(services.map((w) => w.name).sort());
      const init = ofKind(built.objects, 'ConfigMap').find((m) => m.metadata.name.startsWith('postgres-init'));
      expect(Object.keys((init as unknown as { data: Record<string, string> }).data), built.name).toEqual(['postgres-init.sh']);
    }
  });

  it('points the services at Kafka, auth\'s key set and their peers by names that resolve to the right pods', () => {
    for (const built of every()) {
      const services = workloads(built.objects).filter((w) => portalContainer(w) && appNamed(w.name).host);
      const kafka = workloads(built.objects).find((w) => w.name === 'kafka') as Workload;
      const kafkaEnv = containerEnv(built.objects, kafka.spec.containers[0] as Container);
      const brokers = kafka.replicas ?? 1;
      for (const w of services) {
        const env = containerEnv(built.objects, portalContainer(w) as Container);
        for (const address of (env.KAFKA_BROKERS ?? '').split(',')) {
          const [host, port] = address.split(':');
          const service = find(built.objects, 'Service', host as string);
          expect(spec<{ selector: Record<string, string> }>(service).selector['app.kubernetes.io/name'], `${built.name}: ${w.name} KAFKA_BROKERS`).toBe('kafka');
          expect(spec<{ ports: { port: number }[] }>(service).ports.map((p) => p.port), built.name).toContain(Number(port));
        }
        const replication = Number(env.KAFKA_REPLICATION_FACTOR);
        expect(replication, `${built.name}: ${w.name} KAFKA_REPLICATION_FACTOR within the ${brokers} brokers`).toBeLessThanOrEqual(brokers);
        expect(Number(kafkaEnv.KAFKA_MIN_INSYNC_REPLICAS), `${built.name}: min.insync.replicas`).toBeLessThanOrEqual(replication);
        const jwks = new URL(env.AUTH_JWKS_URL ?? '');
        const auth = find(built.objects, 'Service', jwks.hostname);
        expect(spec<{ selector: Record<string, string> }>(auth).selector['app.kubernetes.io/name'], built.name).toBe('auth');
        expect(spec<{ ports: { port: number }[] }>(auth).ports.map((p) => p.port), built.name).toContain(Number(jwks.port));
        expect(jwks.pathname, built.name).toBe(new URL(gatewayConfig({}).jwksUrl).pathname);
      }
      // The KRaft quorum: one voter per broker, named by the headless Service, ids from the pod index.
      const voters = (kafkaEnv.KAFKA_CONTROLLER_QUORUM_VOTERS ?? '').split(',');
      expect(voters, built.name).toEqual(
        Array.from({ length: brokers }, (_, i) => `${i}@kafka-${i}.${spec<{ serviceName: string }>(kafka.object).serviceName}.${NAMESPACE}.svc.cluster.local:9093`),
      );
      expect(kafkaEnv.KAFKA_NODE_ID, built.name).toBe("<fieldRef:metadata.labels['apps.kubernetes.io/pod-index']>");
      expect(kafkaEnv.KAFKA_ADVERTISED_LISTENERS, built.name).toBe(`PLAINTEXT://$(POD_NAME).${spec<{ serviceName: string }>(kafka.object).serviceName}.${NAMESPACE}.svc.cluster.local:9092`);
      expect(spec<{ clusterIP?: string; publishNotReadyAddresses?: boolean }>(find(built.objects, 'Service', spec<{ serviceName: string }>(kafka.object).serviceName)), built.name).toMatchObject({
        clusterIP: 'None',
        publishNotReadyAddresses: true,
      });
      if (built.name === 'production') {
        expect(brokers).toBe(3);
        for (const w of services) expect(containerEnv(built.objects, portalContainer(w) as Container).KAFKA_REPLICATION_FACTOR).toBe('3');
        expect(kafkaEnv.KAFKA_MIN_INSYNC_REPLICAS).toBe('2');
      }
      if (built.name === 'local') expect(brokers).toBe(1);
    }
  });

  it('gives the gateway only variables it reads, with values it accepts, and finds each service through a headless Service of its ready pods', () => {
    for (const built of every()) {
      const w = workloads(built.objects).find((x) => x.name === 'gateway') as Workload;
      const c = portalContainer(w) as Container;
      const env = containerEnv(built.objects, c);
      const recording = recordingEnv(env);
      const config = gatewayConfig(recording.env);
      expect(Object.keys(env).filter((k) => !recording.read.has(k)), `${built.name}: gateway variables the app never reads`).toEqual([]);
      expect(config.port, built.name).toBe(c.ports?.find((p) => p.name === 'http')?.containerPort);
      expect(config.metricsPort, built.name).toBe(c.ports?.find((p) => p.name === 'metrics')?.containerPort);
      // Behind the Ingress one proxy appends to X-Forwarded-For; through local's NodePort none does.
      expect(config.trustedProxyHops, built.name).toBe(built.name.startsWith('local') ? 0 : 1);
      for (const name of Object.keys(SERVICES) as (keyof typeof SERVICES)[]) {
        const discovery = config.discovery[name];
        expect(discovery.kind, `${built.name}: ${name} discovery`).toBe('dns');
        if (discovery.kind !== 'dns') continue;
        // Fully qualified: the gateway asks the DNS server directly, without resolv.conf's search list.
        const [serviceName, namespace, ...rest] = discovery.hostname.split('.');
        expect([namespace, ...rest].join('.'), `${built.name}: ${name}`).toBe(`${NAMESPACE}.svc.cluster.local`);
        const headless = spec<{ clusterIP?: string; publishNotReadyAddresses?: boolean; selector: Record<string, string>; ports: { port: number }[] }>(find(built.objects, 'Service', serviceName as string));
        expect(headless.clusterIP, `${built.name}: ${serviceName}`).toBe('None');
        expect(headless.publishNotReadyAddresses ?? false, `${built.name}: ${serviceName} lists only ready pods`).toBe(false);
        expect(headless.selector['app.kubernetes.io/name'], built.name).toBe(name);
        const target = workloads(built.objects).find((x) => x.name === name) as Workload;
        expect(discovery.port, `${built.name}: ${name}`).toBe(portalContainer(target)?.ports?.find((p) => p.name === 'http')?.containerPort);
      }
    }
  });

  it('agrees with Docker Compose (deploy/compose) on images, the variables each app gets, discovery ports and databases', () => {
    const file = join(ROOT, 'deploy/compose/docker-compose.yml');
    if (!existsSync(file)) throw new Error('deploy/compose/docker-compose.yml is missing: Compose and Kubernetes must describe the same stack');
    const compose = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as {
      services: Record<string, { image: string; environment?: Record<string, string> }>;
    };
    // `${VAR:-default}` as Compose resolves it with nothing set.
    const resolved = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    for (const built of [base, overlay('local')]) {
      const deployed = workloads(built.objects);
      for (const w of deployed) {
        const c = w.spec.containers[0] as Container;
        const composed = compose.services[w.name];
        if (['prometheus', 'grafana'].includes(w.name) && !composed) continue;
        expect(composed, `${built.name}: ${w.name} is not a Compose service`).toBeDefined();
        const repository = (image: string) => resolved(image).replace(/:[\w.-]+$/, '');
        expect(repository(composed?.image ?? ''), `${built.name}: ${w.name} image`).toBe(repository(c.image));
        // Kafka, PostgreSQL: the very same version; the apps' tags are per build.
        if (!portalContainer(w)) {
          expect(resolved(composed?.image ?? ''), `${built.name}: ${w.name} image`).toBe(c.image);
          continue;
        }
        const env = containerEnv(built.objects, c);
        const missing = Object.keys(composed?.environment ?? {}).filter((k) => !(k in env));
        expect(missing, `${built.name}: ${w.name} gets these in Compose but not in Kubernetes`).toEqual([]);
        for (const [key, value] of Object.entries(composed?.environment ?? {})) {
          // Same port behind each discovery name; the host names differ by design (Docker's DNS, the cluster's).
          if (key.endsWith('_DNS')) expect(env[key]?.split(':')[1], `${built.name}: ${w.name} ${key}`).toBe(resolved(value).split(':')[1]);
        }
      }
      const databases = (env: Record<string, string | undefined>) => Object.keys(env).filter((k) => k.endsWith('_DB_PASSWORD')).sort();
      const postgres = deployed.find((w) => w.name === 'postgres') as Workload;
      expect(databases(containerEnv(built.objects, postgres.spec.containers[0] as Container)), `${built.name}: databases`).toEqual(databases(compose.services.postgres?.environment ?? {}));
    }
  });

  describe('probe and metrics paths, asked of the apps themselves', () => {
    const hostApps = APPS.filter((a) => a.host && a.name !== 'monolith');
    const answers = new Map<string, Map<string, number>>();
    let publicMetrics: number | undefined;
    const pathsOf = (app: string) => {
      const paths = new Set<string>();
      for (const built of every()) {
        const w = workloads(built.objects).find((x) => x.name === app) as Workload;
        const c = portalContainer(w) as Container;
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          if (probe?.httpGet) paths.add(probe.httpGet.path);
          expect(probe?.httpGet?.port ?? 'http', `${built.name}: ${app} probes its http port`).toBe('http');
        }
        paths.add(w.annotations['prometheus.io/path'] as string);
      }
      return [...paths];
    };

    beforeAll(async () => {
      for (const app of hostApps) {
        const host = await startTestHost(app.host?.domains ?? []);
        try {
          answers.set(app.name, new Map(await Promise.all(pathsOf(app.name).map(async (p) => [p, (await fetch(host.url + p)).status] as const))));
        } finally {
          await host.close();
        }
      }
      const gateway = await startGateway({ HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn' });
      try {
        // The Prometheus path on the metrics port the annotation names, the probes on the public one.
        const urlOf = (p: string) => (p === '/metrics' ? gateway.metricsUrl : gateway.url) + p;
        answers.set('gateway', new Map(await Promise.all(pathsOf('gateway').map(async (p) => [p, (await fetch(urlOf(p))).status] as const))));
        publicMetrics = (await fetch(`${gateway.url}/metrics`)).status;
      } finally {
        await gateway.close();
      }
    }, 180_000);

    it('answers 200 on every probe path and the Prometheus path the manifests name', () => {
      expect([...answers.keys()].sort()).toEqual(APPS.filter((a) => a.name !== 'monolith').map((a) => a.name).sort());
      for (const [app, statuses] of answers) {
        expect([...statuses.keys()], app).toEqual(expect.arrayContaining(['/health/live', '/health/ready', '/metrics']));
        for (const [path, status] of statuses) expect(status, `${app} GET ${path}`).toBe(200);
      }
      expect(publicMetrics, "GET /metrics on the gateway's public port").toBe(404);
    });
  });
});

describe('network policies, simulated', () => {
  const INTERNET: Endpoint = { kind: 'external', name: 'the internet', ip: '203.0.113.7' };
  const API_SERVER: Endpoint = { kind: 'external', name: 'the API server', ip: '172.18.0.2' };
  const STRANGER: PodEndpoint = { kind: 'pod', name: 'a pod in another namespace', namespace: 'elsewhere', labels: { app: 'stranger' } };
  const KUBE_DNS: PodEndpoint = { kind: 'pod', name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, namedPorts: { dns: 53 } };

  const podsOf = (objects: readonly KubeObject[]) => {
    const pods: (PodEndpoint & { ports: number[] })[] = workloads(objects).map((w) => {
      const ports = w.spec.containers.flatMap((c) => c.ports ?? []);
      return {
        kind: 'pod',
        name: w.name,
        namespace: NAMESPACE,
        labels: w.labels,
        namedPorts: Object.fromEntries(ports.filter((p) => p.name).map((p) => [p.name as string, p.containerPort])),
        ports: ports.map((p) => p.containerPort),
      };
    });
    // Until deploy/monitoring is part of the build, its pods as it labels them.
    for (const [name, port] of [['prometheus', 9090], ['grafana', 3000]] as const) {
      if (!pods.some((p) => p.labels['app.kubernetes.io/name'] === name)) {
        pods.push({ kind: 'pod', name, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': name }, namedPorts: { http: port }, ports: [port] });
      }
    }
    return pods;
  };
  /** `service` for the six services, otherwise the pod's name: gateway, kafka, postgres, prometheus, grafana. */
  const role = (p: Endpoint) =>
    p.kind === 'external' || p.namespace !== NAMESPACE
      ? 'outside'
      : p.labels['app.kubernetes.io/component'] === 'service'
        ? 'service'
        : (p.labels['app.kubernetes.io/name'] ?? p.name);
  const nameOf = (p: Endpoint) => (p.kind === 'pod' ? (p.labels['app.kubernetes.io/name'] ?? p.name) : p.name);

  /** Who should reach whom, from the architecture: the rule the manifests must implement. */
  function expected(from: Endpoint, to: PodEndpoint, port: number): boolean {
    const src = role(from);
    const dst = role(to);
    // The public port from outside; /metrics, on a port of its own, from Prometheus only.
    if (dst === 'gateway') return port === to.namedPorts?.http ? src === 'outside' : port === to.namedPorts?.metrics && src === 'prometheus';
    if (dst === 'service') {
      if (port !== to.namedPorts?.http) return false;
      return src === 'gateway' || src === 'prometheus' || (nameOf(to) === 'auth' && src === 'service');
    }
    if (dst === 'kafka') return (src === 'service' && port === 9092) || src === 'kafka';
    if (dst === 'postgres') return src === 'service' && port === 5432;
    if (dst === 'prometheus') return src === 'grafana' && port === 9090;
    return false;
  }

  for (const name of ['local', 'production']) {
    it(`${name}: only the gateway is reachable from outside; each service only from its callers; Kafka and PostgreSQL only from services`, () => {
      const built = overlay(name);
      const model: NetworkModel = {
        policies: ofKind(built.objects, 'NetworkPolicy') as unknown as NetworkPolicy[],
        namespaces: { [NAMESPACE]: {}, elsewhere: {}, 'kube-system': {} },
        defaultNamespace: NAMESPACE,
      };
      const pods = podsOf(built.objects);
      const sources: Endpoint[] = [INTERNET, STRANGER, ...pods];
      const wrong: string[] = [];
      for (const to of pods) {
        for (const port of to.ports) {
          for (const from of sources) {
            if (from.kind === 'pod' && nameOf(from) === nameOf(to) && role(to) !== 'kafka') continue;
            const is = allowed(model, from, to, { port });
            if (is !== expected(from, to, port)) wrong.push(`${nameOf(from)} -> ${nameOf(to)}:${port} is ${is ? 'allowed' : 'denied'}`);
          }
        }
      }
      expect(wrong).toEqual([]);
      // The matrix above is not vacuous: these are the paths the portal lives on.
      const pod = (n: string) => pods.find((p) => nameOf(p) === n) as PodEndpoint;
      expect(allowed(model, INTERNET, pod('gateway'), { port: 8080 })).toBe(true);
      expect(allowed(model, INTERNET, pod('gateway'), { port: 9464 })).toBe(false);
      expect(allowed(model, pod('prometheus'), pod('gateway'), { port: 9464 })).toBe(true);
      expect(allowed(model, pod('gateway'), pod('webtoon'), { port: 3003 })).toBe(true);
      expect(allowed(model, pod('payment'), pod('kafka'), { port: 9092 })).toBe(true);
      expect(allowed(model, pod('webtoon'), pod('auth'), { port: 3005 })).toBe(true);
      expect(allowed(model, INTERNET, pod('postgres'), { port: 5432 })).toBe(false);
      for (const p of pods) {
        expect(allowed(model, p, KUBE_DNS, { port: 53, protocol: 'UDP' }), `${p.name} -> DNS`).toBe(true);
        expect(allowed(model, p, INTERNET, { port: 443 }), `${p.name} -> the internet`).toBe(false);
        expect(allowed(model, p, API_SERVER, { port: 6443 }), `${p.name} -> the API server`).toBe(role(p) === 'prometheus');
      }
    });
  }

  it('selects every pod with a default deny, both ways', () => {
    for (const built of every()) {
      const denies = (ofKind(built.objects, 'NetworkPolicy') as unknown as NetworkPolicy[]).filter(
        (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
      );
      expect(denies.flatMap((p) => p.spec.policyTypes ?? []).sort(), built.name).toEqual(['Egress', 'Ingress']);
    }
  });
});

describe('the kind cluster', () => {
  it('maps host port 8080 to the gateway\'s NodePort in the local overlay', () => {
    const cluster = parseYaml(readFileSync(join(ROOT, 'deploy/kind/cluster.yaml'), 'utf8')) as {
      kind: string;
      apiVersion: string;
      nodes: { extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string }[] }[];
    };
    expect(cluster).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
    const gateway = spec<{ type: string; ports: { nodePort?: number }[] }>(find(overlay('local').objects, 'Service', 'gateway'));
    expect(gateway.type).toBe('NodePort');
    const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);
    expect(mappings).toEqual([expect.objectContaining({ containerPort: gateway.ports[0]?.nodePort, hostPort: 8080, listenAddress: '127.0.0.1' })]);
    // cluster:up prints where the gateway answers, from the provider's own URL.
    expect(readFileSync(join(ROOT, 'deploy/scripts/provider-kind.sh'), 'utf8')).toContain('provider_gateway_url() { echo "http://localhost:8080"; }');
    expect(readFileSync(join(ROOT, 'deploy/scripts/provider-source.sh'), 'utf8')).toContain(`http://127.0.0.1:${gateway.ports[0]?.nodePort}`);
  });
});

describe(`the ${STANDINS} overlay`, () => {
  let standins: Built;
  beforeAll(() => {
    standins = { name: STANDINS, dir: join(K8S, 'overlays', STANDINS), objects: build(join(K8S, 'overlays', STANDINS)) };
  }, 60_000);

  const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`;
  // grafana-admin, the Secret, is made for every overlay (cluster:up does not know which runs Grafana).
  const isGrafana = (o: { kind: string; metadata: { name: string } }) => o.kind !== 'Secret' && (o.metadata.name === 'grafana' || o.metadata.name.startsWith('grafana-'));
  const images = (b: Built) => workloads(b.objects).flatMap((w) => [...w.spec.containers, ...(w.spec.initContainers ?? [])].map((c) => c.image));

  it('is the local overlay without Grafana, object for object', () => {
    const local = overlay('local').objects;
    expect(standins.objects.map(key).sort()).toEqual(local.filter((o) => !isGrafana(o)).map(key).sort());
    expect(local.some(isGrafana)).toBe(true);
  });

  it('names every third-party image as a stand-in, never by an upstream name', () => {
    const thirdParty = [...new Set(images(standins).filter((i) => !appOfImage(i)))].sort();
    expect(thirdParty).toEqual([`portal-standin/kafka:${KAFKA_VERSION}`, 'portal-standin/postgres:15', 'portal-standin/prometheus:2.42']);
    const upstream = [...new Set(images(overlay('local')).filter((i) => !appOfImage(i)))];
    for (const name of upstream) expect(images(standins)).not.toContain(name);
    // The apps' images stay the local overlay's.
    expect(images(standins).filter((i) => appOfImage(i)).sort()).toEqual(images(overlay('local')).filter((i) => appOfImage(i)).sort());
  });

  it('validates against the Kubernetes schemas like every overlay', async () => {
    for (const object of standins.objects) {
      const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
      const models = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      new (models[object.kind] as new (data: unknown) => { validate(): void })(object).validate();
    }
  });
});
