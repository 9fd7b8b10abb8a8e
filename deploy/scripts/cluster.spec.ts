/**
 * The cluster scripts without a cluster (none can run here): their argument
 * checks, what they say when a tool is missing, and their dry runs
 * (CLUSTER_DRY_RUN=1), with kind, kubectl and docker replaced by programs that
 * only exist so that the scripts find them on PATH (a dry run never calls them
 * to change anything); and scale:webtoon's own decisions against a kubectl
 * that answers like a cluster and logs what it was asked.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPTS = join(ROOT, 'deploy/scripts');
const BASH = '/bin/bash';
const dirs: string[] = [];

/** A PATH with only the given programs: real ones by path, or fakes that print nothing and succeed. */
function pathWith(real: Record<string, string>, fake: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'portal-cluster-spec-'));
  dirs.push(dir);
  for (const [name, target] of Object.entries(real)) symlinkSync(target, join(dir, name));
  for (const name of fake) {
    writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const which = (name: string) => {
  const found = spawnSync(BASH, ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} is not on this machine's PATH`);
  return found;
};
// What the scripts use besides the cluster tools: coreutils and node.
const BASICS = () => Object.fromEntries(['dirname', 'grep', 'sed', 'cat', 'node'].map((n) => [n, which(n)]));

function run(script: string, args: readonly string[], path: string, env: Record<string, string> = {}) {
  const result = spawnSync(BASH, [join(SCRIPTS, script), ...args], {
    encoding: 'utf8',
    // A state folder of its own: a source cluster running on this machine is never touched.
    env: { PATH: path, HOME: tmpdir(), SOURCE_CLUSTER_STATE: join(tmpdir(), 'portal-cluster-spec-no-state'), SOURCE_CLUSTER_CACHE: join(tmpdir(), 'portal-cluster-spec-no-cache'), ...env },
    cwd: ROOT,
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run scale:webtoon -- N', () => {
  const path = () => pathWith(BASICS(), ['kubectl']);

  it.each([
    [[], /expected one argument, the replica count N/],
    [['abc'], /N must be a positive whole number, got 'abc'/],
    [['0'], /N must be a positive whole number, got '0'/],
    [['-3'], /N must be a positive whole number, got '-3'/],
    [['2.5'], /N must be a positive whole number, got '2.5'/],
    [['05'], /N must be a positive whole number, got '05'/],
    [['51'], /N must be at most 50, got 51/],
    [['3', '4'], /expected one argument/],
  ])('refuses %j with a message that names N', (args, message) => {
    const result = run('scale-webtoon.sh', args, path());
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: npm run scale:webtoon -- N');
    expect(result.stdout).toBe('');
  });

  it('says to install kubectl when it is missing', () => {
    const result = run('scale-webtoon.sh', ['5'], pathWith(BASICS(), []));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing: kubectl - install it from https://kubernetes.io/docs/tasks/tools/');
  });

  it('keeps a larger HPA ceiling, raises a smaller one, and waits until N pods are ready', () => {
    // A kubectl that answers like a cluster whose HPA allows 10 and whose webtoon has N ready pods, and logs every call.
    const dir = pathWith(BASICS(), []);
    const log = join(dir, 'calls.log');
    writeFileSync(
      join(dir, 'kubectl'),
      [
        '#!/bin/bash',
        `echo "$*" >> ${log}`,
        'case "$*" in',
        '  *"get hpa webtoon -o jsonpath={.metadata.name}"*) echo webtoon ;;',
        '  *"get hpa webtoon -o jsonpath={.spec.maxReplicas}"*) echo 10 ;;',
        '  *"get deployment webtoon -o jsonpath={.status.readyReplicas}"*) echo "$READY" ;;',
        '  *"get deployments -o"*) echo "DEPLOYMENT READY WANTED" ;;',
        'esac',
      ].join('\n'),
    );
    chmodSync(join(dir, 'kubectl'), 0o755);
    for (const [n, max] of [
      [3, 10],
      [12, 12],
    ]) {
      writeFileSync(log, '');
      const result = run('scale-webtoon.sh', [String(n)], dir, { READY: String(n) });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls).toContain(`--context kind-portal --namespace portal patch hpa webtoon --type merge -p {"spec":{"minReplicas":${n},"maxReplicas":${max}}}`);
      expect(calls.indexOf(`--context kind-portal --namespace portal scale deployment/webtoon --replicas=${n}`)).toBeGreaterThan(calls.findIndex((c) => c.includes('patch hpa')));
      expect(result.stdout).toContain(`webtoon: ${n}/${n} replicas ready`);
    }
  });

  it('raises the HPA floor to N before scaling, so the scale sticks (dry run)', () => {
    const result = run('scale-webtoon.sh', ['5'], path(), { CLUSTER_DRY_RUN: '1' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const commands = result.stdout.split('\n').filter((l) => l.startsWith('+ '));
    expect(commands).toEqual([
      '+ kubectl --context kind-portal --namespace portal patch hpa webtoon --type merge -p {"spec":{"minReplicas":5,"maxReplicas":5}}',
      '+ kubectl --context kind-portal --namespace portal scale deployment/webtoon --replicas=5',
      '+ kubectl --context kind-portal --namespace portal rollout status deployment/webtoon --timeout=300s',
    ]);
  });
});

describe('KUBE_CONTEXT', () => {
  it('points scale:webtoon at another cluster (minikube, k3d), but never cluster:up, which makes its own', () => {
    const tools = pathWith(BASICS(), ['kind', 'kubectl', 'docker', 'npm']);
    const scale = run('scale-webtoon.sh', ['2'], tools, { CLUSTER_DRY_RUN: '1', KUBE_CONTEXT: 'minikube' });
    expect(scale.stdout).toContain('+ kubectl --context minikube --namespace portal scale deployment/webtoon --replicas=2');
    const up = run('cluster-up.sh', [], tools, { CLUSTER_DRY_RUN: '1', KUBE_CONTEXT: 'minikube', CLUSTER_PROVIDER: 'kind' });
    expect(up.stdout).toContain('+ kubectl --context kind-portal apply -k deploy/k8s/overlays/local');
    expect(up.stdout).not.toContain('minikube');
  });
});

describe('npm run cluster:up', () => {
  it('names every missing tool with where to get it', () => {
    const result = run('cluster-up.sh', [], pathWith(BASICS(), []), { CLUSTER_PROVIDER: 'kind' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing: kind - install it from https://kind.sigs.k8s.io/');
    expect(result.stderr).toContain('missing: kubectl - install it from https://kubernetes.io/docs/tasks/tools/');
    expect(result.stderr).toContain('missing: docker - install Docker Engine');
    expect(result.stderr).toContain('install kind kubectl docker and run this again');
    // Only docker missing: only docker named.
    const some = run('cluster-up.sh', [], pathWith(BASICS(), ['kind', 'kubectl']), { CLUSTER_PROVIDER: 'kind' });
    expect(some.stderr).not.toContain('missing: kind');
    expect(some.stderr).toContain('missing: docker');
  });

  it('refuses arguments', () => {
    const result = run('cluster-up.sh', ['--now'], pathWith(BASICS(), ['kind', 'kubectl', 'docker']));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cluster:up takes no arguments (got: --now)');
    expect(run('cluster-up.sh', [], pathWith(BASICS(), ['kind', 'kubectl', 'docker']), { CLUSTER_PROVIDER: 'k3s' }).stderr).toContain(
      "CLUSTER_PROVIDER must be kind or source, got 'k3s'",
    );
  });

  it('creates the cluster, builds and loads every deployed image, applies the local overlay and waits for each workload (dry run)', () => {
    const result = run('cluster-up.sh', [], pathWith(BASICS(), ['kind', 'kubectl', 'docker', 'npm']), { CLUSTER_DRY_RUN: '1', CLUSTER_PROVIDER: 'kind' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const commands = result.stdout.split('\n').filter((l) => l.startsWith('+ '));
    expect(commands[0]).toBe('+ kind create cluster --name portal --config deploy/kind/cluster.yaml --wait 120s');
    const loaded = commands.filter((c) => c.startsWith('+ kind load docker-image')).map((c) => /portal\/([a-z]+):local/.exec(c)?.[1]);
    // The apps the local overlay deploys (k8s.spec.ts checks those against apps/).
    expect([...loaded].sort()).toEqual(['analytics', 'auth', 'blog', 'gateway', 'news', 'payment', 'webtoon']);
    // Through `npm run images` (deploy/docker/build-images.sh), or docker build per app where that script is absent.
    const built = commands.filter((c) => c.includes('docker build') || c.includes('npm run images'));
    expect(built).toEqual(
      existsSync(join(ROOT, 'deploy/docker/build-images.sh'))
        ? ['+ env PORTAL_TAG=local npm run images -- gateway auth news blog webtoon payment analytics']
        : loaded.map((app) => `+ docker build -f deploy/docker/Dockerfile --build-arg APP=${app} -t portal/${app}:local .`),
    );
    expect(commands).toContain('+ kubectl --context kind-portal apply -k deploy/k8s/overlays/local');
    // The Secrets first (none exists on a new cluster), in the namespace made for them, then the overlay.
    const secrets = commands.indexOf(
      '+ portal_secrets_yaml postgres-admin auth-database news-database blog-database webtoon-database payment-database analytics-database grafana-admin | kubectl --context kind-portal --namespace portal create -f -',
    );
    expect(secrets).toBeGreaterThan(commands.indexOf('+ kubectl --context kind-portal apply -f deploy/k8s/base/namespace.yaml'));
    expect(commands.indexOf('+ kubectl --context kind-portal apply -f deploy/k8s/base/namespace.yaml')).toBeGreaterThan(-1);
    expect(commands.indexOf('+ kubectl --context kind-portal apply -k deploy/k8s/overlays/local')).toBeGreaterThan(secrets);
    const waits = commands.filter((c) => c.includes('rollout status')).map((c) => c.split(' ').find((w) => w.includes('/')));
    expect(waits).toEqual(['statefulset/postgres', 'statefulset/kafka', ...['gateway', 'auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'].map((a) => `deployment/${a}`)]);
    expect(result.stdout).toMatch(/\[1\/9\] waiting for statefulset\/postgres/);
    expect(result.stdout).toMatch(/gateway: +http:\/\/localhost:8080\//);
    // The files those commands name exist.
    expect(existsSync(join(ROOT, 'deploy/k8s/overlays/local/kustomization.yaml'))).toBe(true);
    expect(existsSync(join(ROOT, 'deploy/kind/cluster.yaml'))).toBe(true);
  });
});

describe('the Secrets cluster:up makes', () => {
  it('keeps those there already on a rerun (PostgreSQL has their passwords) and makes only the missing ones (dry run)', () => {
    // A kubectl whose cluster has two of the Secrets: `get secret NAME --ignore-not-found -o name` names those.
    const dir = pathWith(BASICS(), ['kind', 'docker', 'npm']);
    writeFileSync(
      join(dir, 'kubectl'),
      ['#!/bin/bash', 'case "$*" in', '  *"get secret postgres-admin "*) echo secret/postgres-admin ;;', '  *"get secret auth-database "*) echo secret/auth-database ;;', 'esac'].join('\n'),
    );
    chmodSync(join(dir, 'kubectl'), 0o755);
    const result = run('cluster-up.sh', [], dir, { CLUSTER_DRY_RUN: '1', CLUSTER_PROVIDER: 'kind' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Secrets: news-database blog-database webtoon-database payment-database analytics-database grafana-admin with random passwords (2 there already, kept)');
    expect(result.stdout).toContain('+ portal_secrets_yaml news-database blog-database webtoon-database payment-database analytics-database grafana-admin | kubectl');
    expect(result.stdout).not.toMatch(/portal_secrets_yaml .*(postgres-admin|auth-database)/);
  });

  it('makes them with random passwords that nobody committed, through the same script an admin runs', () => {
    const script = join(SCRIPTS, 'portal-secrets.sh');
    const names = spawnSync(BASH, [script, '--names'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(names).toContain('grafana-admin');
    const [a, b] = [spawnSync(BASH, [script, 'grafana-admin'], { encoding: 'utf8' }).stdout, spawnSync(BASH, [script, 'grafana-admin'], { encoding: 'utf8' }).stdout];
    expect(a).toMatch(/^ {2}password: "[A-Za-z0-9]{32}"$/m);
    expect(a).not.toBe(b);
    const unknown = spawnSync(BASH, [script, 'nope'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('error: no Secret nope in the portal');
    expect(readFileSync(join(SCRIPTS, 'cluster-up.sh'), 'utf8')).toContain('source "$(dirname "${BASH_SOURCE[0]}")/portal-secrets.sh"');
  });
});

describe('the source cluster provider', () => {
  it('is chosen where kind is not installed, and runs the same steps after the cluster answers (dry run)', () => {
    const result = run('cluster-up.sh', [], pathWith(BASICS(), ['kubectl', 'docker', 'npm']), { CLUSTER_DRY_RUN: '1' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('cluster provider: source (kind is not installed)');
    const commands = result.stdout.split('\n').filter((l) => l.startsWith('+ '));
    expect(commands[0]).toBe('+ source_up (deploy/cluster/source/cluster.sh)');
    expect(commands).toContain('+ env PORTAL_TAG=local npm run images -- gateway auth news blog webtoon payment analytics');
    expect(commands).toContain(
      '+ docker save portal/gateway:local portal/auth:local portal/news:local portal/blog:local portal/webtoon:local portal/payment:local portal/analytics:local | ctr images import -',
    );
    expect(commands).toContain('+ kubectl --context portal-source apply -k deploy/k8s/overlays/local');
    expect(result.stdout).toMatch(/gateway: +http:\/\/127\.0\.0\.1:30080\//);
  });

  it('refuses an overlay that does not exist', () => {
    const result = run('cluster-up.sh', [], pathWith(BASICS(), ['kubectl', 'docker', 'npm']), { CLUSTER_DRY_RUN: '1', CLUSTER_OVERLAY: 'nope' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('CLUSTER_OVERLAY=nope: no deploy/k8s/overlays/nope/kustomization.yaml');
  });

  it('passes shellcheck, like every script of the project', () => {
    const scripts = ['cluster-lib.sh', 'cluster-up.sh', 'cluster-down.sh', 'scale-webtoon.sh', 'provider-kind.sh', 'provider-source.sh', 'portal-secrets.sh'].map((f) => join(SCRIPTS, f));
    const source = ['cluster.sh', 'build.sh', 'versions.sh'].map((f) => join(ROOT, 'deploy/cluster/source', f));
    const result = spawnSync(which('shellcheck'), ['-x', '-P', 'SCRIPTDIR', ...scripts, ...source], { encoding: 'utf8', cwd: ROOT });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('npm run cluster:down', () => {
  it('needs kind, and has nothing to do without the cluster', () => {
    expect(run('cluster-down.sh', [], pathWith(BASICS(), [])).stderr).toContain('missing: kind');
    const result = run('cluster-down.sh', [], pathWith(BASICS(), ['kind']));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('no kind cluster named portal; nothing to delete');
  });
});
