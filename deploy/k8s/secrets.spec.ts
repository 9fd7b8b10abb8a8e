/**
 * No password in git: no Secret under deploy/ (in any file, or in what any
 * kustomization builds) holds a value, no container gets a credential as a
 * literal, Grafana's admin password is never its default; and the Secrets the
 * workloads name are exactly those deploy/scripts/portal-secrets.sh makes
 * (cluster:up creates them, an admin on a real cluster), with random values
 * that fit together.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildKustomization, findKustomize } from './kustomize.js';
import type { KubeObject } from './kustomize.js';
import { generatedSecrets, workloads } from './manifests.js';
import type { Container } from './manifests.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
/** Variables that carry a credential by their name. */
const CREDENTIAL = /PASSWORD|SECRET|TOKEN|CREDENTIAL|_KEY$|DATABASE_URL/;

/** Every file under deploy/ with one of these endings, node_modules and build output aside. */
function filesUnder(dir: string, endings: readonly string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', 'dist', '.turbo'].includes(name)) return [];
    if (statSync(path).isDirectory()) return filesUnder(path, endings);
    return endings.some((e) => name.endsWith(e)) ? [path] : [];
  });
}

/** What is wrong with these objects: Secrets with values, credentials as literals, Grafana's default admin. */
function passwordProblems(objects: readonly KubeObject[], where: string): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'Secret')) {
    const values = { ...(o.data as object | undefined), ...(o.stringData as object | undefined) };
    if (Object.keys(values).length > 0) problems.push(`${where}: Secret ${o.metadata.name} holds ${Object.keys(values).join(', ')}`);
  }
  for (const w of workloads(objects)) {
    for (const c of [...w.spec.containers, ...(w.spec.initContainers ?? [])] as Container[]) {
      for (const v of c.env ?? []) {
        if (CREDENTIAL.test(v.name) && v.value !== undefined) problems.push(`${where}: ${w.name}/${c.name} sets ${v.name} to a literal`);
      }
      if (c.image.startsWith('grafana/') || c.name === 'grafana') {
        const admin = c.env?.find((v) => v.name === 'GF_SECURITY_ADMIN_PASSWORD');
        if (!admin?.valueFrom?.secretKeyRef) problems.push(`${where}: ${w.name} has Grafana's default admin password (admin)`);
      }
    }
  }
  return problems;
}

/** Every folder under deploy/ with a kustomization that builds on its own (components are part of overlays). */
const KUSTOMIZATIONS = filesUnder(DEPLOY, ['kustomization.yaml'])
  .map((f) => dirname(f))
  .filter((dir) => !readFileSync(join(dir, 'kustomization.yaml'), 'utf8').includes('kind: Component'))
  .sort();

let builds: { dir: string; objects: KubeObject[] }[];

beforeAll(() => {
  const command = findKustomize();
  builds = KUSTOMIZATIONS.map((dir) => ({ dir: relative(ROOT, dir), objects: buildKustomization(dir, command) }));
}, 180_000);

describe('no password in git', () => {
  it('builds every kustomization under deploy/ (each overlay, monitoring, Jenkins) with no Secret value, no credential literal, no default Grafana admin', () => {
    expect(builds.map((b) => b.dir)).toEqual(
      expect.arrayContaining(['deploy/k8s/base', 'deploy/k8s/overlays/local', 'deploy/k8s/overlays/local-standins', 'deploy/k8s/overlays/production', 'deploy/monitoring', 'deploy/jenkins']),
    );
    expect(builds.flatMap((b) => passwordProblems(b.objects, b.dir))).toEqual([]);
    // Grafana runs in the overlays that have it, each time with its password from a Secret.
    const grafanas = builds.filter((b) => workloads(b.objects).some((w) => w.name === 'grafana')).map((b) => b.dir);
    expect(grafanas).toEqual(expect.arrayContaining(['deploy/k8s/overlays/local', 'deploy/k8s/overlays/production']));
  });

  it('has no Secret with a value in any YAML file under deploy/', () => {
    const files = filesUnder(DEPLOY, ['.yaml', '.yml']);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((file) =>
      parseAllDocuments(readFileSync(file, 'utf8'))
        .map((d) => d.toJS() as KubeObject | null)
        .filter((o): o is KubeObject => o?.kind === 'Secret')
        .flatMap((o) => passwordProblems([o], relative(ROOT, file))),
    );
    expect(found).toEqual([]);
  });

  it('catches what it is there to catch', () => {
    const local = builds.find((b) => b.dir === 'deploy/k8s/overlays/local')?.objects ?? [];
    const withPlaceholder: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'auth-database' }, stringData: { password: 'placeholder-auth' } };
    expect(passwordProblems([...local, withPlaceholder], 'x')).toEqual(['x: Secret auth-database holds password']);
    const defaultGrafana = structuredClone(local).map((o) => {
      const w = o as unknown as { kind: string; metadata: { name: string }; spec: { template: { spec: { containers: Container[] } } } };
      if (w.kind === 'Deployment' && w.metadata.name === 'grafana') {
        const c = w.spec.template.spec.containers[0] as Container;
        c.env = (c.env ?? []).filter((v) => v.name !== 'GF_SECURITY_ADMIN_PASSWORD');
      }
      return o;
    });
    expect(passwordProblems(defaultGrafana, 'x')).toEqual(["x: grafana has Grafana's default admin password (admin)"]);
  });
});

describe('the Secrets the workloads name (deploy/scripts/portal-secrets.sh)', () => {
  /** Every Secret name anything in `value` refers to (secretKeyRef, secretRef, secret volumes). */
  const referenced = (value: unknown, into = new Set<string>()): string[] => {
    if (Array.isArray(value)) for (const v of value) referenced(v, into);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (['secretKeyRef', 'secretRef'].includes(key)) into.add((v as { name: string }).name);
        else if (key === 'secret' && (v as { secretName?: string }).secretName) into.add((v as { secretName: string }).secretName);
        else referenced(v, into);
      }
    }
    return [...into].sort();
  };

  it('are exactly the ones it makes, for the local and the production overlay', () => {
    const made = generatedSecrets().map((s) => s.metadata.name).sort();
    for (const dir of ['deploy/k8s/overlays/local', 'deploy/k8s/overlays/production']) {
      expect(referenced(builds.find((b) => b.dir === dir)?.objects ?? []), dir).toEqual(made);
    }
    expect(made).toEqual(['analytics-database', 'auth-database', 'blog-database', 'grafana-admin', 'news-database', 'payment-database', 'postgres-admin', 'webtoon-database']);
  });

  it('hold a fresh random password each (32 letters and digits), the same inside each DATABASE_URL', () => {
    const [first, second] = [generatedSecrets(), generatedSecrets()];
    const passwords = first.map((s) => (s.stringData as Record<string, string>).password ?? '');
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
    for (const [i, secret] of first.entries()) {
      expect((second[i]?.stringData as Record<string, string>).password).not.toBe(passwords[i]);
      const data = secret.stringData as Record<string, string>;
      if (!secret.metadata.name.endsWith('-database')) continue;
      const db = secret.metadata.name.replace(/-database$/, '');
      expect(data.DATABASE_URL).toBe(`postgres://${db}:${data.password}@postgres:5432/${db}`);
    }
  });
});
