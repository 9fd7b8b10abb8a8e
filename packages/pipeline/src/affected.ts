import path from 'node:path';
import { git, gitMaybe, resolveCommit } from './git.js';

export interface AffectedOptions {
  /** The repository's top-level directory. */
  repoRoot: string;
  /**
   * The revision already built: the last successful build, or `origin/main` for a
   * branch. Absent, empty or all zeros (a first build) means everything.
   */
  base?: string | undefined;
  /** The revision being built; `HEAD` by default. */
  head?: string | undefined;
}

interface Workspace {
  /** Path from the repository root, `/`-separated, e.g. `packages/db`. */
  dir: string;
  name: string;
  /** Names from `dependencies` only: see `readWorkspaces`. */
  dependencies: string[];
  /** Under `apps/` with a `start` script: something we build an image of. */
  deployable: boolean;
}

/**
 * Files outside any workspace that go into every image or decide how it is built:
 * the install (manifests, lockfile, npm settings, Node version), the compiler
 * settings, turbo's task graph, the Docker build itself.
 */
const EVERYTHING_FILES = new Set([
  'package.json',
  'package-lock.json',
  '.npmrc',
  '.nvmrc',
  'tsconfig.base.json',
  'turbo.json',
  'Dockerfile',
  '.dockerignore',
]);
const EVERYTHING_DIRS = ['deploy/docker/'];

/**
 * The deployable apps (folder names under `apps/`, sorted) whose image may differ
 * between `base` and `head`: an app is affected when its own workspace, or one it
 * depends on at run time (transitively), has a changed file that goes into an
 * image.
 */
export function affectedServices({ repoRoot, base, head = 'HEAD' }: AffectedOptions): string[] {
  const headSha = resolveCommit(repoRoot, head);
  if (headSha === undefined) throw new Error(`git does not know the revision '${head}'`);
  const workspaces = readWorkspaces(repoRoot, headSha);
  const all = workspaces.filter((w) => w.deployable).map((w) => path.posix.basename(w.dir));

  const files = changedFiles(repoRoot, base, headSha);
  if (files === 'everything') return all.sort();

  const changed = new Set<Workspace>();
  for (const file of files) {
    const owner = classify(file, workspaces);
    if (owner === 'everything') return all.sort();
    if (owner !== undefined) changed.add(owner);
  }
  return dependentsOf(changed, workspaces)
    .filter((w) => w.deployable)
    .map((w) => path.posix.basename(w.dir))
    .sort();
}

/**
 * The deployable apps whose image at `head` may differ from the one that runs:
 * `running` maps an app to the image it runs now (`<registry>/portal/<app>:<tag>`,
 * the tag 12 characters of the commit it was built from, as imageTag makes it).
 * An app is outdated when the change since its own commit affects it, when it
 * does not run, or when its tag names no commit this clone knows (`-dirty`,
 * another scheme, history rewritten). Each app is compared with the commit it
 * was built from, so a build that did not deploy changes nothing here.
 */
export function outdatedServices({ repoRoot, running, head = 'HEAD' }: { repoRoot: string; running: ReadonlyMap<string, string>; head?: string | undefined }): string[] {
  const all = affectedServices({ repoRoot, base: undefined, head });
  const byBase = new Map<string, string[]>();
  return all.filter((app) => {
    const sha = /:([0-9a-f]{12})$/.exec(running.get(app) ?? '')?.[1];
    if (sha === undefined) return true;
    let affected = byBase.get(sha);
    if (affected === undefined) {
      // An unknown base is 'everything' to affectedServices.
      affected = affectedServices({ repoRoot, base: sha, head });
      byBase.set(sha, affected);
    }
    return affected.includes(app);
  });
}

/**
 * The files that differ, or 'everything' when there is nothing trustworthy to
 * compare against.
 */
function changedFiles(repoRoot: string, base: string | undefined, head: string): string[] | 'everything' {
  const rev = base?.trim() ?? '';
  // CI systems give an empty or all-zero "previous commit" on a first build.
  if (/^0*$/.test(rev)) return 'everything';
  // A base this clone does not have (a shallow clone, history rewritten and
  // collected) cannot be compared; rebuilding everything is the safe answer.
  const baseSha = resolveCommit(repoRoot, rev);
  if (baseSha === undefined) return 'everything';
  if (gitMaybe(repoRoot, ['merge-base', baseSha, head]) === undefined) return 'everything';

  const files = new Set(diffNames(repoRoot, [`${baseSha}...${head}`]));
  const isAncestor = gitMaybe(repoRoot, ['merge-base', '--is-ancestor', baseSha, head]) !== undefined;
  if (!isAncestor) {
    // base...head is only what head changed since the fork point. When base is not
    // an ancestor (history rewritten, or base moved on), the images built from base
    // may hold changes head lacks, so files whose contents differ between the two
    // trees count too. A few extra builds, never a stale image.
    for (const file of diffNames(repoRoot, [baseSha, head])) files.add(file);
  }
  return [...files];
}

function diffNames(repoRoot: string, revs: string[]): string[] {
  // --no-renames: a file moved between workspaces changes both of them, and with
  // rename detection --name-only lists only the new path. -z: paths as they are,
  // unquoted.
  const out = git(repoRoot, ['diff', '--name-only', '--no-renames', '-z', ...revs]);
  return out.split('\0').filter((file) => file !== '');
}

/**
 * The workspace whose image content `file` changes, 'everything', or undefined
 * when it changes no image.
 */
function classify(file: string, workspaces: Workspace[]): Workspace | 'everything' | undefined {
  // Documentation is not shipped.
  if (file.endsWith('.md') || file.startsWith('docs/')) return undefined;
  if (EVERYTHING_FILES.has(file) || EVERYTHING_DIRS.some((dir) => file.startsWith(dir))) {
    return 'everything';
  }
  const owner = workspaces
    .filter((w) => file.startsWith(`${w.dir}/`))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
  // Other files at the root (lint config, CI stand-ins, the Jenkinsfile, k8s
  // manifests, which every deploy applies anyway) are not in any image.
  if (owner === undefined) return undefined;
  const inside = file.slice(owner.dir.length + 1);
  // Tests are not built into dist: the same exclusions as the build task's inputs
  // in turbo.json, so the cache and the pipeline agree on what a build reads.
  if (inside.endsWith('.spec.ts') || inside.startsWith('test/')) return undefined;
  return owner;
}

/** The workspaces in `changed` and every workspace that depends on one of them, transitively. */
function dependentsOf(changed: Set<Workspace>, workspaces: Workspace[]): Workspace[] {
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const dependents = new Map<string, Workspace[]>();
  for (const w of workspaces) {
    for (const name of w.dependencies) {
      const dependency = byName.get(name);
      if (dependency !== undefined) {
        dependents.set(dependency.dir, [...(dependents.get(dependency.dir) ?? []), w]);
      }
    }
  }

  const seen = new Set<Workspace>();
  const queue = [...changed];
  for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
    if (seen.has(w)) continue;
    seen.add(w);
    queue.push(...(dependents.get(w.dir) ?? []));
  }
  return [...seen];
}

/** The workspaces as they are at `rev`, read from git so the working tree does not matter. */
function readWorkspaces(repoRoot: string, rev: string): Workspace[] {
  const root = readJson(repoRoot, rev, 'package.json');
  const patterns = workspacePatterns(root);
  const dirs = git(repoRoot, ['ls-tree', '-r', '--name-only', '-z', rev])
    .split('\0')
    .filter((file) => file.endsWith('/package.json'))
    .map((file) => path.posix.dirname(file))
    .filter((dir) => patterns.some((pattern) => matchesPattern(dir, pattern)));

  return dirs.map((dir) => {
    const manifest = readJson(repoRoot, rev, `${dir}/package.json`);
    return {
      dir,
      name: typeof manifest.name === 'string' ? manifest.name : dir,
      // Only `dependencies`: they are what an app's image installs (npm ci
      // --omit=dev) and compiles against. devDependencies are test helpers and
      // presets (@portal/testing, vitest-config, eslint-config); a change to them
      // changes no image. The build tooling that does shape the output (tsc,
      // turbo, tsconfig.base.json) is pinned at the root and selects everything.
      dependencies: Object.keys(record(manifest.dependencies)),
      deployable:
        path.posix.dirname(dir) === 'apps' && typeof record(manifest.scripts).start === 'string',
    };
  });
}

function workspacePatterns(root: Record<string, unknown>): string[] {
  const workspaces = Array.isArray(root.workspaces)
    ? root.workspaces
    : record(root.workspaces).packages;
  return Array.isArray(workspaces) ? workspaces.filter((p): p is string => typeof p === 'string') : [];
}

/**
 * npm's workspace patterns as this repository writes them: literal folders and `*`
 * for one folder name (`apps/*`). Not path.matchesGlob, which still warns that it
 * is experimental on every run.
 */
function matchesPattern(dir: string, pattern: string): boolean {
  const parts = dir.split('/');
  const wanted = pattern.replace(/^\.\//, '').replace(/\/$/, '').split('/');
  return parts.length === wanted.length && wanted.every((part, i) => part === '*' || part === parts[i]);
}

function readJson(repoRoot: string, rev: string, file: string): Record<string, unknown> {
  return record(JSON.parse(git(repoRoot, ['show', `${rev}:${file}`])));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
