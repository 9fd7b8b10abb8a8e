import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildKustomization } from '../k8s/kustomize.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = join(root, 'deploy/jenkins');
const scriptsDir = join(here, 'scripts');
const jenkinsfile = readFileSync(join(root, 'Jenkinsfile'), 'utf8');
const scripts = readdirSync(scriptsDir)
  .filter((name) => name.endsWith('.sh'))
  .map((name) => ({ name, path: join(scriptsDir, name), text: readFileSync(join(scriptsDir, name), 'utf8') }));
const rootScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** What issue #8 lists, in its order. */
const STAGES = [
  'Checkout',
  'Deploy target',
  'Install',
  'Lint and typecheck',
  'Unit tests',
  'Integration tests',
  'Affected services',
  'Build and push images',
  'Deploy',
  'Smoke test',
];

/** The stages that push, deploy or need the deploy's target: each must run on main only, never for a pull request. */
const DEPLOYING = ['Deploy target', 'Build and push images', 'Deploy', 'Smoke test'];

/** The text of the `{ ... }` block that opens at or after `from` (comments stripped first by the callers). */
function blockAt(text: string, from: number): string {
  const open = text.indexOf('{', from);
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === '{') depth += 1;
    if (text[i] === '}') depth -= 1;
    if (depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced braces after offset ${from}`);
}

const withoutComments = (groovy: string) => groovy.replace(/^\s*\/\/.*$/gm, '');

/** Each stage's name and body. */
function stagesOf(groovy: string): { name: string; body: string }[] {
  const text = withoutComments(groovy);
  return [...text.matchAll(/^\s*stage\('([^']+)'\)\s*\{/gm)].map((m) => ({ name: m[1] ?? '', body: blockAt(text, m.index) }));
}

/**
 * What is wrong with when a Jenkinsfile deploys: every stage that pushes an
 * image, runs in the kubectl container or smoke-tests the deployment must be
 * guarded by exactly `allOf { branch 'main'; not { changeRequest() };
 * expression { params.DEPLOY } }`, nothing looser (no anyOf, no other branch).
 */
function deployGuardProblems(groovy: string): string[] {
  const problems: string[] = [];
  for (const { name, body } of stagesOf(groovy)) {
    const deploys = /container\('(?:kubectl|buildkit)'\)|scripts\/(?:build-images|deploy|smoke|target)\.sh/.test(body);
    if (!deploys) continue;
    if (!DEPLOYING.includes(name)) problems.push(`${name}: deploys but is not one of ${DEPLOYING.join(', ')}`);
    const whenAt = body.search(/\bwhen\s*\{/);
    if (whenAt < 0) {
      problems.push(`${name}: no when, so it runs on every branch`);
      continue;
    }
    const when = blockAt(body, whenAt).replace(/\s+/g, ' ').trim();
    const expected = "allOf { branch 'main' not { changeRequest() } expression { params.DEPLOY } }";
    if (when !== expected) problems.push(`${name}: when { ${when} } is not when { ${expected} }`);
  }
  // After the stages: the rollback, under the same condition written out.
  const text = withoutComments(groovy);
  const post = blockAt(text, text.search(/^ {4}post\s*\{/m));
  const condition = "if (env.BRANCH_NAME == 'main' && !env.CHANGE_ID && params.DEPLOY) {";
  for (const m of post.matchAll(/container\('(?:kubectl|buildkit)'\)/g)) {
    const opened = post.lastIndexOf(condition, m.index);
    if (opened < 0 || !blockAt(post, opened + condition.length - 1).includes(m[0])) problems.push(`post: ${m[0]} outside ${condition}`);
  }
  const guarded = stagesOf(groovy).filter((st) => /\bwhen\s*\{\s*allOf\s*\{\s*branch 'main'/.test(st.body)).map((st) => st.name);
  for (const name of DEPLOYING) if (!guarded.includes(name)) problems.push(`${name}: missing, or not guarded by branch 'main'`);
  return problems;
}

/** The parameters block's choice and string parameters: name, default (a choice's first entry) and choices. */
function parametersOf(groovy: string): { name: string; kind: string; default: string; choices: string[] }[] {
  const text = withoutComments(groovy);
  const block = blockAt(text, text.search(/\bparameters\s*\{/));
  const found = [];
  for (const m of block.matchAll(/choice\(name: '(\w+)', choices: \[([^\]]*)\]/g)) {
    const choices = [...(m[2] ?? '').matchAll(/'([^']*)'/g)].map((c) => c[1] ?? '');
    found.push({ name: m[1] ?? '', kind: 'choice', default: choices[0] ?? '', choices });
  }
  for (const m of block.matchAll(/string\(name: '(\w+)', defaultValue: '([^']*)'/g)) found.push({ name: m[1] ?? '', kind: 'string', default: m[2] ?? '', choices: [] });
  for (const m of block.matchAll(/booleanParam\(name: '(\w+)', defaultValue: (\w+)/g)) found.push({ name: m[1] ?? '', kind: 'boolean', default: m[2] ?? '', choices: [] });
  return found;
}

interface LintResult {
  files: Record<string, { errors: { rule: string; severity: string; msg: string; line?: number }[] }>;
}

/** npm-groovy-lint (CodeNarc on Java) with the Jenkinsfile rule set; one JVM for all `files`, none left running. */
function groovyLint(files: readonly string[]): LintResult {
  const result = spawnSync(
    'npx',
    ['npm-groovy-lint', '--noserver', '--config', join(here, '.groovylintrc.json'), '--failon', 'warning', '--output', 'json', ...files],
    { cwd: join(root, 'deploy'), encoding: 'utf8', timeout: 280_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const start = result.stdout.indexOf('{');
  if (start < 0) throw new Error(`npm-groovy-lint printed no result (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout.slice(start)) as LintResult;
}

describe('the Jenkinsfile', () => {
  it(
    'passes npm-groovy-lint with no error or warning, and a broken copy does not',
    () => {
      // Both copies in one fresh folder: CodeNarc scans everything under the
      // files' common parent, which for the repository and /tmp would be /.
      const dir = mkdtempSync(join(tmpdir(), 'jenkinsfile-'));
      const [ok, broken] = [join(dir, 'ok/Jenkinsfile'), join(dir, 'broken/Jenkinsfile')];
      mkdirSync(join(dir, 'ok'));
      mkdirSync(join(dir, 'broken'));
      writeFileSync(ok, jenkinsfile);
      // One brace too many: what a bad merge leaves.
      writeFileSync(broken, jenkinsfile.replace('    stages {\n', '    stages {{\n'));
      const result = groovyLint([ok, broken]);
      expect(result.files[ok]?.errors.filter((e) => e.severity !== 'info')).toEqual([]);
      expect(result.files[broken]?.errors.map((e) => `${e.severity} ${e.rule}`)).toContain('error NglParseError');
    },
    300_000,
  );

  it('has the stages of the issue, in its order, and publishes tests and rolls back in post', () => {
    const stages = [...jenkinsfile.matchAll(/^\s*stage\('([^']+)'\)/gm)].map((m) => m[1]);
    expect(stages).toEqual(STAGES);
    const post = jenkinsfile.slice(jenkinsfile.indexOf('\n    post {'));
    expect(post).toMatch(/always \{\s*junit testResults: '\.pipeline\/junit\/\*\.xml'/);
    expect(post).toMatch(/failure \{[\s\S]*sh 'deploy\/jenkins\/scripts\/rollback\.sh'/);
  });

  it('deploys from main only, never for a pull request or another branch, and only with DEPLOY ticked', () => {
    expect(deployGuardProblems(jenkinsfile)).toEqual([]);
    // The check itself catches each way to loosen it.
    const deployStage = jenkinsfile.indexOf("stage('Deploy') {");
    const loosened = {
      'no branch': jenkinsfile.slice(0, deployStage) + jenkinsfile.slice(deployStage).replace("branch 'main'\n", ''),
      'any branch or PR': jenkinsfile.slice(0, deployStage) + jenkinsfile.slice(deployStage).replace('allOf {', 'anyOf {'),
      'pull requests': jenkinsfile.replace(/not \{ changeRequest\(\) \}\n/, ''),
      'another branch': jenkinsfile.replace("branch 'main'", "branch 'release/*'"),
      'post on any branch': jenkinsfile.replace("if (env.BRANCH_NAME == 'main' && !env.CHANGE_ID && params.DEPLOY) {", 'if (true) {'),
      'no when': jenkinsfile.replace(/stage\('Smoke test'\) \{\n\s+when \{[\s\S]*?\n {12}\}\n/, "stage('Smoke test') {\n"),
    };
    for (const [how, copy] of Object.entries(loosened)) {
      expect(copy, how).not.toBe(jenkinsfile);
      expect(deployGuardProblems(copy), how).not.toEqual([]);
    }
  });

  it('has no usable default TARGET: its default is refused wherever a deploy would start, before the tests', () => {
    const params = parametersOf(jenkinsfile);
    const target = params.find((p) => p.name === 'TARGET');
    expect(target?.kind).toBe('choice');
    const overlays = readdirSync(join(root, 'deploy/k8s/overlays'));
    // The default (a choice's first entry) is no overlay, and the target check refuses it, naming what to do.
    expect(overlays).not.toContain(target?.default);
    const refused = spawnSync('sh', [join(scriptsDir, 'target.sh'), target?.default ?? ''], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`TARGET is '${target?.default}': a deploy needs an environment chosen for this build`);
    expect(refused.stderr).toContain('Build with Parameters');
    for (const bad of ['', 'staging']) expect(spawnSync('sh', [join(scriptsDir, 'target.sh'), bad]).status, `'${bad}'`).toBe(1);
    // Every other entry is an overlay the deploy takes.
    for (const choice of target?.choices.slice(1) ?? []) {
      expect(overlays).toContain(choice);
      const ok = spawnSync('sh', [join(scriptsDir, 'target.sh'), choice], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
    }
    expect(target?.choices.slice(1).sort()).toEqual(['local', 'production']);
    // The check runs first where a deploy would happen (the same guard as the deploy stages), and deploy.sh repeats it.
    const stages = stagesOf(jenkinsfile);
    expect(stages.map((st) => st.name).indexOf('Deploy target')).toBe(1);
    expect(stages.find((st) => st.name === 'Deploy target')?.body).toContain(`sh 'deploy/jenkins/scripts/target.sh "$TARGET"'`);
    // A deploy does not trust the last successful build to be what runs (it need not have deployed): it records what runs.
    expect(stages.find((st) => st.name === 'Deploy target')?.body).toMatch(/container\('kubectl'\) \{\s*sh 'deploy\/jenkins\/scripts\/running\.sh'/);
    expect(readFileSync(join(scriptsDir, 'affected.sh'), 'utf8')).toContain('npm run -s pipeline:affected -- --running "${STATE}/running.tsv"');
    expect(readFileSync(join(scriptsDir, 'deploy.sh'), 'utf8')).toMatch(/^check_target "\$\{target\}"$/m);
    // A build nobody started by hand (a push) does not deploy at all.
    expect(params.find((p) => p.name === 'DEPLOY')?.default).toBe('false');
  });

  it('stays thin: every sh step calls one of the scripts, which exist and are executable', () => {
    const steps = [...jenkinsfile.matchAll(/\bsh\s+'([^']+)'/g)].map((m) => m[1] ?? '');
    expect(steps.length).toBeGreaterThanOrEqual(STAGES.length - 1);
    for (const step of steps) {
      const script = /^(deploy\/jenkins\/scripts\/[\w-]+\.sh)\b/.exec(step)?.[1];
      expect(script, `sh '${step}' is not a call of a script in deploy/jenkins/scripts`).toBeDefined();
      accessSync(join(root, script ?? ''), constants.X_OK);
    }
  });

  it('runs each step in a container the agent pod has, and the parameters reach the scripts', () => {
    const pod = parse(readFileSync(join(here, 'agent-pod.yaml'), 'utf8')) as AgentPod;
    const names = pod.spec.containers.map((c) => c.name);
    expect(jenkinsfile).toContain("yamlFile 'deploy/jenkins/agent-pod.yaml'");
    for (const [, name] of jenkinsfile.matchAll(/(?:container\(|defaultContainer )'([^']+)'/g)) expect(names).toContain(name);
    // Parameters are environment variables in the steps: each one a script does not read is dead.
    const all = scripts.map((s) => s.text).join('\n');
    for (const [, name] of jenkinsfile.matchAll(/(?:choice|string)\(name: '(\w+)'/g)) {
      expect(all.includes(`\${${name}`) || jenkinsfile.includes(`"$${name}"`), `${name} is read nowhere`).toBe(true);
    }
  });
});

describe('the npm scripts and files the pipeline calls', () => {
  const sources = [{ name: 'Jenkinsfile', text: jenkinsfile }, ...scripts];

  it('calls only npm scripts the root package.json has', () => {
    const called = new Set<string>();
    for (const { name, text } of sources) {
      for (const [, script] of text.matchAll(/\bnpm run(?: -s)? ([\w:-]*\w)/g)) {
        expect(rootScripts, `${name} calls npm run ${script}`).toHaveProperty([script ?? '']);
        called.add(script ?? '');
      }
    }
    expect([...called].sort()).toEqual(['lint', 'pipeline:affected', 'pipeline:image-tag', 'smoke', 'typecheck']);
  });

  it('names only files and folders that exist (each overlay a target may name)', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const { name, text } of sources) {
      for (const [path = ''] of text.matchAll(/\b(?:deploy|packages|apps)\/[\w./${}-]*[\w}]/g)) {
        // deploy.sh's overlay is per target: both must exist.
        const paths = path.includes('${target}') ? ['local', 'production'].map((t) => path.replace('${target}', t)) : [path];
        for (const p of paths) {
          if (p.includes('$')) continue;
          checked += 1;
          if (!existsSync(join(root, p))) missing.push(`${name}: ${p}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('hands the smoke test the gateway Service the overlays deploy', () => {
    const gateway = parseAllDocuments(readFileSync(join(root, 'deploy/k8s/base/gateway.yaml'), 'utf8'))
      .map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { ports: { port: number }[] } })
      .find((o) => o.kind === 'Service' && o.metadata.name === 'gateway');
    const port = gateway?.spec.ports[0]?.port;
    const smoke = scripts.find((s) => s.name === 'smoke.sh')?.text ?? '';
    expect(smoke).toContain(`url=\${SMOKE_URL:-http://gateway.\${NAMESPACE}.svc.cluster.local${port === 80 ? '' : `:${port}`}}`);
    expect(readFileSync(join(scriptsDir, 'lib.sh'), 'utf8')).toContain('NAMESPACE=${NAMESPACE:-portal}');
  });
});

describe('the scripts', () => {
  it.each(scripts.map((s) => [s.name, s] as const))('%s parses, stops on errors and has a shell it can run in', (_, script) => {
    const shell = script.name === 'lib.sh' ? 'sh' : /^#!(?:\/usr\/bin\/env |\/bin\/)(bash|sh)\n/.exec(script.text)?.[1];
    expect(shell, `${script.name} has no #!/bin/sh or bash line`).toBeDefined();
    execFileSync(shell ?? 'sh', ['-n', script.path]);
    if (script.name !== 'lib.sh') expect(script.text).toMatch(/^\. "\$\(dirname "\$0"\)\/lib\.sh"$/m);
  });

  it('lib.sh sets -eu for all of them, and bash scripts add pipefail', () => {
    expect(readFileSync(join(scriptsDir, 'lib.sh'), 'utf8')).toMatch(/^set -eu$/m);
    for (const script of scripts.filter((s) => s.text.startsWith('#!/usr/bin/env bash'))) {
      // lib.sh is POSIX (the BuildKit container has no bash), so bash's own option is set here.
      expect(`${script.name}: ${/^set -o pipefail$/m.test(script.text)}`).toBe(`${script.name}: true`);
    }
  });

  // POSIX sh for build-images.sh (the BuildKit image has no bash): shellcheck catches bashisms.
  const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  // Skipped on a laptop without shellcheck; under CI=true a missing shellcheck fails.
  it.runIf(shellcheck || process.env.CI === 'true')('pass shellcheck', () => {
    expect(shellcheck, 'shellcheck is not installed (apt-get install shellcheck)').toBe(true);
    const result = spawnSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', ...scripts.map((s) => s.path)], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

/** The API's resource name of a kind: Ingress -> ingresses, NetworkPolicy -> networkpolicies. */
function resourceOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return lower.endsWith('s') ? `${lower}es` : `${lower}s`;
}

interface Container {
  name: string;
  image: string;
  securityContext?: { privileged?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
  env?: { name: string; valueFrom?: Record<string, unknown> }[];
  envFrom?: Record<string, unknown>[];
}
interface AgentPod {
  spec: {
    serviceAccountName: string;
    automountServiceAccountToken?: boolean;
    containers: Container[];
    initContainers?: Container[];
    volumes: Record<string, unknown>[];
  };
}

const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Where the agent pod lets a container other than kubectl see the deploy
 * credentials: the pod's automatic token mount (on unless switched off), a
 * volume with a ServiceAccount token or a Secret (the registry's push
 * credentials aside, BuildKit's alone), anything mounted at the token's path,
 * Secrets in the environment; and whether kubectl has its token at all.
 */
function credentialProblems(pod: AgentPod): string[] {
  const problems: string[] = [];
  if (pod.spec.automountServiceAccountToken !== false) problems.push('the pod mounts the ServiceAccount token into every container');
  const holdsToken = (v: Record<string, unknown>) => JSON.stringify(v).includes('"serviceAccountToken"');
  const holdsSecret = (v: Record<string, unknown>) => 'secret' in v || JSON.stringify(v).includes('"secret":');
  const volumes = new Map(pod.spec.volumes.map((v) => [v.name as string, v]));
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    for (const mount of c.volumeMounts ?? []) {
      const volume = volumes.get(mount.name) ?? {};
      if (c.name !== 'kubectl' && holdsToken(volume)) problems.push(`${c.name} mounts ${mount.name}, which holds a ServiceAccount token`);
      if (c.name !== 'kubectl' && mount.mountPath.startsWith('/var/run/secrets')) problems.push(`${c.name} mounts something at ${mount.mountPath}`);
      if (holdsSecret(volume) && !(c.name === 'buildkit' && mount.name === 'registry-push')) problems.push(`${c.name} mounts the Secret volume ${mount.name}`);
    }
    const envSecrets = [...(c.env ?? []).filter((e) => JSON.stringify(e.valueFrom ?? {}).includes('secretKeyRef')), ...(c.envFrom ?? []).filter((e) => 'secretRef' in e)];
    if (envSecrets.length > 0) problems.push(`${c.name} has Secrets in its environment`);
  }
  const kubectl = pod.spec.containers.find((c) => c.name === 'kubectl');
  const mount = kubectl?.volumeMounts?.find((m) => m.mountPath === TOKEN_PATH);
  if (!mount || !holdsToken(volumes.get(mount.name) ?? {})) problems.push(`kubectl has no ServiceAccount token at ${TOKEN_PATH}`);
  return problems;
}

/** The verbs `rules` allow on `resource` (core group), wildcards included. */
function verbsOn(rules: readonly Rule[], resource: string): string[] {
  return rules
    .filter((r) => (r.apiGroups.includes('') || r.apiGroups.includes('*')) && (r.resources.includes(resource) || r.resources.includes('*')))
    .flatMap((r) => (r.verbs.includes('*') ? ['*'] : r.verbs));
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('Jenkins on the cluster (deploy/jenkins)', () => {
  const objects = buildKustomization(here);
  const pod = parse(readFileSync(join(here, 'agent-pod.yaml'), 'utf8')) as AgentPod;

  it('validates against the Kubernetes schemas, agent pod included', async () => {
    for (const object of [...objects, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'agent' }, ...pod }]) {
      const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
      const module = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
      const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = models[object.kind];
      if (!Model) throw new Error(`${module} exports no ${object.kind}`);
      expect(() => new Model(object).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  });

  it('builds images without a Docker socket: no host paths, only the dind sidecar is privileged', () => {
    expect(pod.spec.volumes.filter((v) => 'hostPath' in v)).toEqual([]);
    const privileged = pod.spec.containers.filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
    expect(privileged).toEqual(['dind']);
    expect(pod.spec.containers.map((c) => c.name).sort()).toEqual(['buildkit', 'dind', 'kubectl', 'node']);
    expect(pod.spec.containers.find((c) => c.name === 'buildkit')?.image).toMatch(/^moby\/buildkit:v[\d.]+-rootless$/);
  });

  it('gives the deploy credentials to the kubectl container only: not to node, where npm ci runs install scripts', () => {
    expect(credentialProblems(pod)).toEqual([]);
    const agent = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === pod.spec.serviceAccountName) as unknown as {
      automountServiceAccountToken?: boolean;
    };
    expect(agent.automountServiceAccountToken).toBe(false);
    // The check catches each way the token could reach node.
    const broken = (change: (p: AgentPod) => void) => {
      const copy = structuredClone(pod);
      change(copy);
      return copy;
    };
    const node = (p: AgentPod) => p.spec.containers.find((c) => c.name === 'node') as Container;
    const variants = {
      automount: broken((p) => delete p.spec.automountServiceAccountToken),
      'token volume in node': broken((p) => node(p).volumeMounts?.push({ name: 'deploy-token', mountPath: '/opt/token' })),
      'token Secret in node env': broken((p) => node(p).env?.push({ name: 'KUBE_TOKEN', valueFrom: { secretKeyRef: { name: 'agent-token', key: 'token' } } })),
      'kubectl without token': broken((p) => p.spec.containers.find((c) => c.name === 'kubectl')?.volumeMounts?.splice(0)),
    };
    for (const [how, copy] of Object.entries(variants)) expect(credentialProblems(copy), how).not.toEqual([]);
    // In the Jenkinsfile, credentials bound by hand (another cluster's kubeconfig) only inside container('kubectl').
    const text = withoutComments(jenkinsfile);
    for (const m of text.matchAll(/withCredentials\(/g)) {
      const before = text.slice(0, m.index);
      const opened = before.lastIndexOf("container('");
      expect(before.slice(opened, opened + 20), 'withCredentials outside container(kubectl)').toBe("container('kubectl')");
      expect(blockAt(text, opened).includes(text.slice(m.index, m.index + 40))).toBe(true);
    }
  });

  it('lets the agent deploy to `portal` and nowhere else, with exactly what deploy.sh applies', () => {
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'portal') as unknown as {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace: 'jenkins' }]);
    expect(binding.roleRef.kind).toBe('Role');
    // No cluster-wide rights for anyone here, and nothing at all for the agent outside `portal`.
    expect(objects.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    const agentBindings = objects.filter(
      (o) => o.kind === 'RoleBinding' && JSON.stringify(o).includes(`"name":"${pod.spec.serviceAccountName}"`),
    );
    expect(agentBindings.map((o) => o.metadata.namespace)).toEqual(['portal']);

    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === binding.roleRef.name) as unknown as { rules: Rule[] };
    const can = (kind: string, verb: string) =>
      role.rules.some((r) => r.resources.includes(kind) && r.verbs.includes(verb));
    for (const rule of role.rules) {
      expect(rule.verbs).not.toContain('delete');
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
    }
    // No reading Secrets (get, list and watch all return their values), and no way around that.
    for (const rules of [role.rules, ...objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'portal').map((o) => (o as unknown as { rules: Rule[] }).rules)]) {
      expect(verbsOn(rules, 'secrets').filter((v) => ['get', 'list', 'watch', '*'].includes(v))).toEqual([]);
    }
    for (const rule of role.rules) {
      expect(rule.apiGroups).not.toContain('*');
      for (const verb of ['escalate', 'bind', 'impersonate']) expect(rule.verbs).not.toContain(verb);
      for (const sub of ['pods/exec', 'pods/attach', 'pods/portforward', 'serviceaccounts/token']) expect(rule.resources).not.toContain(sub);
    }
    expect(verbsOn([{ apiGroups: [''], resources: ['*'], verbs: ['get'] }], 'secrets'), 'verbsOn sees wildcards').toEqual(['get']);
    // Only creating one, which deploy.sh does as a server-side dry run to learn whether it exists.
    expect(verbsOn(role.rules, 'secrets')).toEqual(['create']);
    expect(readFileSync(join(scriptsDir, 'deploy.sh'), 'utf8')).toContain('create secret generic "${secret}" --from-literal=probe=probe --dry-run=server');
    expect(can('pods/exec', 'create')).toBe(false);

    // deploy.sh applies every kind the overlays hold but the Namespace and the Secrets.
    const deploy = readFileSync(join(scriptsDir, 'deploy.sh'), 'utf8');
    expect(deploy).toContain(`yq 'select(.kind != "Namespace" and .kind != "Secret")'`);
    for (const target of ['local', 'production']) {
      const kinds = new Set(buildKustomization(join(root, 'deploy/k8s/overlays', target)).map((o) => o.kind));
      for (const kind of [...kinds].filter((k) => k !== 'Namespace' && k !== 'Secret')) {
        const plural = resourceOf(kind);
        expect(can(plural, 'patch') && can(plural, 'create') && can(plural, 'get'), `${target}: ${kind} (${plural})`).toBe(true);
      }
    }
    // rollout status / undo.
    expect(can('deployments', 'watch') && can('replicasets', 'list')).toBe(true);
  });

  it('installs the plugins the Jenkinsfile uses and tells the scripts the registry', () => {
    const plugins = readFileSync(join(here, 'plugins.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    for (const plugin of ['kubernetes', 'workflow-aggregator', 'git', 'junit', 'timestamper', 'configuration-as-code']) {
      expect(plugins).toContain(plugin);
    }
    const casc = parse(readFileSync(join(here, 'casc.yaml'), 'utf8')) as {
      jenkins: { globalNodeProperties: { envVars: { env: { key: string; value: string }[] } }[] };
    };
    const env = casc.jenkins.globalNodeProperties[0]?.envVars.env.map((e) => e.key);
    expect(env).toContain('REGISTRY');
    expect(scripts.find((s) => s.name === 'build-images.sh')?.text).toContain('require_env REGISTRY');
  });
});
