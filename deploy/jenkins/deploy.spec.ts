import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// deploy.sh and rollback.sh against testing/kubectl, a stand-in for the API
// server that keeps Deployments' revisions as Kubernetes does (no control
// plane runs on the build machines), with the real kustomize and yq the
// pipeline's kubectl container has (alpine/k8s).

const repo = fileURLToPath(new URL('../../', import.meta.url));
const APPS = ['gateway', 'auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'];
const TAG = 'abc123def456';
/** The Secrets the overlays' workloads name, which an admin creates (none is in git). */
const SECRETS = ['postgres-admin', ...['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'].map((s) => `${s}-database`), 'grafana-admin'];

/** The folder of the first `name` on PATH (or in Go's bin folder) for which `works` holds. */
function findTool(name: string, works: (bin: string) => boolean): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), process.env.GOBIN ?? '', join(homedir(), 'go/bin')];
  return dirs.filter((d) => d !== '').find((dir) => existsSync(join(dir, name)) && works(join(dir, name)));
}

// `kustomize edit`: kubectl's built-in kustomize only builds.
const kustomizeDir = findTool('kustomize', (bin) => spawnSync(bin, ['edit', 'set', 'image', '--help']).status === 0);
// mikefarah's yq (Go), as in alpine/k8s; Debian's yq is a different program.
const yqDir = findTool('yq', (bin) => /mikefarah/.test(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout));
const tools = kustomizeDir !== undefined && yqDir !== undefined;
const missingTools =
  'deploy/jenkins/deploy.spec.ts needs kustomize (v5, with `edit`) and mikefarah yq v4 on PATH: ' +
  'go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0 and go install github.com/mikefarah/yq/v4@v4.44.3';
// On a laptop without them the test is skipped and says so; under CI=true it fails.
const runDeployTests = tools || process.env.CI === 'true';
if (!runDeployTests) console.warn(`skipped: ${missingTools}`);

/** Copies `dir` of the repository under `root`, again if a file vanished meanwhile (an editor's temporary file). */
function copyTree(dir: string, root: string, attempts = 3): void {
  try {
    cpSync(join(repo, dir), join(root, dir), { recursive: true, force: true, filter: (src) => !src.includes('node_modules') });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempts <= 1) throw error;
    copyTree(dir, root, attempts - 1);
  }
}

interface World {
  readonly root: string;
  readonly cluster: string;
  run(script: 'deploy.sh' | 'rollback.sh' | 'running.sh', ...args: string[]): { status: number | null; output: string };
  history(app: string): string[];
  running(app: string): string;
}

/** A copy of deploy/ (the overlay gets edited) and a cluster where every app runs `:old` at revision 1. */
function world(services: readonly string[]): World {
  const root = mkdtempSync(join(tmpdir(), 'jenkins-deploy-'));
  // What the scripts read: the overlays, what they build on, the scripts.
  for (const dir of ['deploy/k8s', 'deploy/monitoring', 'deploy/jenkins/scripts']) copyTree(dir, root);
  mkdirSync(join(root, '.pipeline'));
  writeFileSync(join(root, '.pipeline/image-tag'), `${TAG}\n`);
  writeFileSync(join(root, '.pipeline/services'), services.map((s) => `${s}\n`).join(''));
  const cluster = join(root, 'cluster');
  const bin = join(root, 'bin');
  mkdirSync(cluster);
  mkdirSync(bin);
  symlinkSync(join(repo, 'deploy/jenkins/testing/kubectl'), join(bin, 'kubectl'));
  writeFileSync(join(cluster, 'namespace'), '');
  for (const app of APPS) writeFileSync(join(cluster, `${app}.history`), `1 registry.test/portal/${app}:old\n`);
  for (const secret of SECRETS) writeFileSync(join(cluster, `secret-${secret}`), '');
  const env = {
    PATH: [bin, kustomizeDir, yqDir, process.env.PATH].join(delimiter),
    HOME: root,
    FAKE_CLUSTER: cluster,
    REGISTRY: 'registry.test',
  };
  return {
    root,
    cluster,
    run: (script, ...args) => {
      const result = spawnSync('bash', [join(root, 'deploy/jenkins/scripts', script), ...args], { env, encoding: 'utf8', timeout: 120_000 });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    },
    history: (app) => readFileSync(join(cluster, `${app}.history`), 'utf8').trim().split('\n'),
    running: (app) => readFileSync(join(cluster, `${app}.history`), 'utf8').trim().split('\n').at(-1)?.split(' ')[1] ?? '',
  };
}

describe.runIf(runDeployTests)('deploy.sh and rollback.sh', () => {
  beforeAll(() => {
    if (!tools) throw new Error(missingTools);
  });

  it('rolls out only the rebuilt app, keeps every other one as it runs, and rolls back to the revision before', () => {
    const w = world(['monolith', 'webtoon']);
    const deploy = w.run('deploy.sh', 'local');
    expect(deploy.status, deploy.output).toBe(0);
    expect(w.history('webtoon')).toEqual(['1 registry.test/portal/webtoon:old', `2 registry.test/portal/webtoon:${TAG}`]);
    for (const app of APPS.filter((a) => a !== 'webtoon')) expect(w.history(app)).toEqual([`1 registry.test/portal/${app}:old`]);
    expect(readFileSync(join(w.root, '.pipeline/rollback.tsv'), 'utf8')).toBe('webtoon\t1\n');
    expect(deploy.output).toContain('monolith: image pushed; no Deployment in this overlay runs it');
    expect(deploy.output).toContain('deployed webtoon at abc123def456');

    // The edit is in the overlay, as a user would make it; the Namespace and Secrets were not sent.
    const overlay = readFileSync(join(w.root, 'deploy/k8s/overlays/local/kustomization.yaml'), 'utf8');
    expect(overlay).toMatch(/name: portal\/webtoon\n\s+newName: registry\.test\/portal\/webtoon\n\s+newTag: abc123def456/);
    const applied = readFileSync(join(w.cluster, 'applied.yaml'), 'utf8');
    expect(applied).not.toMatch(/^kind: (Namespace|Secret)$/m);
    expect(applied).toMatch(/^kind: Deployment$/m);
    const calls = readFileSync(join(w.cluster, 'calls.log'), 'utf8');
    expect(calls).toContain('rollout status deployment/webtoon');
    expect(calls).not.toMatch(/rollout status deployment\/(?!webtoon)/);

    const rollback = w.run('rollback.sh');
    expect(rollback.status, rollback.output).toBe(0);
    expect(rollback.output).toContain(`webtoon: revision 2 -> back to 1`);
    expect(w.running('webtoon')).toBe('registry.test/portal/webtoon:old');
    rmSync(w.root, { recursive: true, force: true });
  });

  it('fails on a rollout that does not finish, and the rollback puts the old revision back', () => {
    const w = world(['news', 'webtoon']);
    writeFileSync(join(w.cluster, 'fail-webtoon'), '');
    const deploy = w.run('deploy.sh', 'production');
    expect(deploy.status).toBe(1);
    expect(deploy.output).toContain('error: webtoon did not roll out within 5m');
    expect(readFileSync(join(w.root, '.pipeline/rollback.tsv'), 'utf8')).toBe('news\t1\nwebtoon\t1\n');

    const rollback = w.run('rollback.sh');
    expect(rollback.output).toContain('news: revision 2 -> back to 1');
    expect(rollback.output).toContain('webtoon: revision 2 -> back to 1');
    // Undo waits for the rollout back, which still times out here: said so, and the step fails.
    expect(rollback.status).toBe(1);
    expect(rollback.output).toContain('error: rolling back webtoon failed');
    expect(w.running('news')).toBe('registry.test/portal/news:old');
    expect(w.running('webtoon')).toBe('registry.test/portal/webtoon:old');
    rmSync(w.root, { recursive: true, force: true });
  });

  it('applies nothing when an app has never run and was not built, or the namespace is missing', () => {
    const neverRan = world(['webtoon']);
    rmSync(join(neverRan.cluster, 'news.history'));
    const first = neverRan.run('deploy.sh', 'local');
    expect(first.status).toBe(1);
    expect(first.output).toContain('news is not running yet and this build did not make its image: run the pipeline with FORCE_SERVICES=news');
    expect(readFileSync(join(neverRan.cluster, 'calls.log'), 'utf8')).not.toContain('apply');

    const noNamespace = world(['webtoon']);
    rmSync(join(noNamespace.cluster, 'namespace'));
    const second = noNamespace.run('deploy.sh', 'local');
    expect(second.status).toBe(1);
    expect(second.output).toContain('namespace portal is missing or not ours to deploy to');
    expect(readFileSync(join(noNamespace.cluster, 'calls.log'), 'utf8')).not.toContain('apply');
    for (const w of [neverRan, noNamespace]) rmSync(w.root, { recursive: true, force: true });
  });

  it('applies nothing while a Secret the overlay names is missing, and says which and how to make it', () => {
    for (const target of ['production', 'local']) {
      const w = world(['webtoon']);
      rmSync(join(w.cluster, 'secret-payment-database'));
      rmSync(join(w.cluster, 'secret-grafana-admin'));
      const deploy = w.run('deploy.sh', target);
      expect(deploy.status, deploy.output).toBe(1);
      expect(deploy.output).toContain('error: missing Secret(s) in namespace portal: grafana-admin payment-database.');
      expect(deploy.output).toContain('deploy/scripts/portal-secrets.sh | kubectl -n portal create -f -');
      const calls = readFileSync(join(w.cluster, 'calls.log'), 'utf8');
      expect(calls).not.toContain('apply');
      // Asked without reading one: a server-side dry run of creating each Secret the overlay names, and no get.
      const asked = [...calls.matchAll(/kubectl -n portal create secret generic ([\w-]+) --from-literal=probe=probe --dry-run=server/g)].map((m) => m[1]);
      expect(asked.sort()).toEqual([...SECRETS].sort());
      expect(calls).not.toMatch(/get secret/);
      rmSync(w.root, { recursive: true, force: true });
    }
    // With them all there, the same deploy goes through.
    const w = world(['webtoon']);
    const deploy = w.run('deploy.sh', 'production');
    expect(deploy.status, deploy.output).toBe(0);
    expect(deploy.output).toContain(`Secrets ${[...SECRETS].sort().join(' ')}: there`);
    rmSync(w.root, { recursive: true, force: true });
  });

  it('records what the namespace runs for affected.sh, each Deployment with its image (running.sh)', () => {
    const w = world(['webtoon']);
    rmSync(join(w.cluster, 'news.history'));
    const result = w.run('running.sh');
    expect(result.status, result.output).toBe(0);
    const lines = readFileSync(join(w.root, '.pipeline/running.tsv'), 'utf8').trim().split('\n').sort();
    expect(lines).toEqual(APPS.filter((a) => a !== 'news').map((a) => `${a}\tregistry.test/portal/${a}:old`).sort());
    expect(result.output).toContain('running in portal:');
    // Nothing running: an empty file (every app then counts as changed), not a missing one.
    for (const app of APPS.filter((a) => a !== 'news')) rmSync(join(w.cluster, `${app}.history`));
    expect(w.run('running.sh').status).toBe(0);
    expect(readFileSync(join(w.root, '.pipeline/running.tsv'), 'utf8')).toBe('');
    rmSync(w.root, { recursive: true, force: true });
  });

  it('leaves alone what it did not change: nothing recorded, a Deployment this build created, one still at its revision', () => {
    const w = world(['webtoon', 'news']);
    expect(w.run('rollback.sh').output).toContain('no deploy was started: nothing to roll back');

    rmSync(join(w.cluster, 'webtoon.history'));
    expect(w.run('deploy.sh', 'local').status).toBe(0);
    expect(readFileSync(join(w.root, '.pipeline/rollback.tsv'), 'utf8')).toBe('news\t1\nwebtoon\t\n');
    writeFileSync(join(w.cluster, 'news.history'), '1 registry.test/portal/news:old\n');
    const rollback = w.run('rollback.sh');
    expect(rollback.status, rollback.output).toBe(0);
    expect(rollback.output).toContain('webtoon: created by this build, no earlier revision to go back to (left at revision 1)');
    expect(rollback.output).toContain('news: still at revision 1, unchanged');
    expect(readFileSync(join(w.cluster, 'calls.log'), 'utf8')).not.toContain('rollout undo');
    rmSync(w.root, { recursive: true, force: true });
  });

  it('refuses a target that is not an overlay, and the Jenkinsfile\'s default `none`, before touching anything', () => {
    const w = world(['webtoon']);
    expect(w.run('deploy.sh', 'staging')).toEqual({ status: 1, output: "error: TARGET 'staging' is not an overlay to deploy to: production or local (deploy/k8s/overlays/<TARGET>)\n" });
    for (const unset of ['none', '']) {
      const refused = w.run('deploy.sh', unset);
      expect(refused.status).toBe(1);
      expect(refused.output).toContain(`error: TARGET is '${unset}': a deploy needs an environment chosen for this build`);
    }
    expect(existsSync(join(w.cluster, 'calls.log'))).toBe(false);
    rmSync(w.root, { recursive: true, force: true });
  });
});
