import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMiniPortal } from '../test/git-repo.js';
import type { GitRepo } from '../test/git-repo.js';
import { affectedServices, outdatedServices } from './affected.js';
import { git, resolveCommit } from './git.js';

/** Commits `files` on top of HEAD and returns what that commit affects. */
function affectedBy(repo: GitRepo, files: Record<string, string>): string[] {
  const base = repo.git('rev-parse', 'HEAD').trim();
  repo.write(files);
  const head = repo.commit('change');
  return affectedServices({ repoRoot: repo.root, base, head });
}

describe('affectedServices', () => {
  it('selects only the app that changed', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'apps/a/src/main.ts': 'export const a = 2;\n' })).toEqual(['a']);
  });

  it('selects the dependents of a changed shared package, transitively', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'packages/shared/src/index.ts': '// changed\n' })).toEqual(['a', 'b']);
    expect(affectedBy(repo, { 'packages/core/src/index.ts': '// changed\n' })).toEqual(['a', 'b']);
  });

  it('selects nothing for a package that apps only have as a devDependency', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'packages/other/src/index.ts': '// changed\n' })).toEqual([]);
  });

  it('selects nothing for a workspace under apps/ without a start script', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'apps/tools/src/index.ts': '// changed\n' })).toEqual([]);
  });

  it('selects every app for a change to the lockfile, the root manifest or the compiler settings', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'package-lock.json': '{}\n' })).toEqual(['a', 'b']);
    const manifest = readFileSync(path.join(repo.root, 'package.json'), 'utf8');
    expect(affectedBy(repo, { 'package.json': `${manifest}\n` })).toEqual(['a', 'b']);
    expect(affectedBy(repo, { 'tsconfig.base.json': '{}\n' })).toEqual(['a', 'b']);
    expect(affectedBy(repo, { 'deploy/docker/Dockerfile': 'FROM node:24\n' })).toEqual(['a', 'b']);
  });

  it('selects nothing for a docs-only change', () => {
    const repo = createMiniPortal();
    const docs = {
      'README.md': '# mini, explained\n',
      'docs/x.md': '# x, explained\n',
      'packages/shared/README.md': '# shared, explained\n',
    };
    expect(affectedBy(repo, docs)).toEqual([]);
  });

  it('selects nothing for a test-only change', () => {
    const repo = createMiniPortal();
    const tests = {
      'packages/shared/src/index.spec.ts': '// another test\n',
      'apps/a/test/main.spec.ts': '// a cross-process test\n',
      'apps/a/test/helpers.ts': '// its helper\n',
    };
    expect(affectedBy(repo, tests)).toEqual([]);
  });

  it('selects nothing for root files that are in no image', () => {
    const repo = createMiniPortal();
    expect(affectedBy(repo, { 'eslint.config.js': '// stricter\n', Jenkinsfile: 'pipeline {}\n' })).toEqual([]);
  });

  it('selects the union over several commits, and a file moved between workspaces changes both', () => {
    const repo = createMiniPortal();
    const base = repo.git('rev-parse', 'HEAD').trim();
    repo.write({ 'apps/a/src/main.ts': '// changed\n' });
    repo.commit('a');
    repo.git('mv', 'packages/shared/src/index.ts', 'packages/other/src/moved.ts');
    const head = repo.commit('move');
    expect(affectedServices({ repoRoot: repo.root, base, head })).toEqual(['a', 'b']);
  });

  it('selects every app on a first build: no base, an empty one or all zeros', () => {
    const repo = createMiniPortal();
    for (const base of [undefined, '', '0'.repeat(40)]) {
      expect(affectedServices({ repoRoot: repo.root, base })).toEqual(['a', 'b']);
    }
  });

  it('selects every app when the base is not in this clone', () => {
    const repo = createMiniPortal();
    expect(affectedServices({ repoRoot: repo.root, base: 'f'.repeat(40) })).toEqual(['a', 'b']);
  });

  it('counts what the base has and head lacks when the base is not an ancestor', () => {
    const repo = createMiniPortal();
    repo.git('switch', '--quiet', '--create', 'built');
    repo.write({ 'apps/a/src/main.ts': '// only on the built branch\n' });
    const base = repo.commit('built from here');
    repo.git('switch', '--quiet', 'main');
    repo.write({ 'apps/b/src/main.ts': '// only on main\n' });
    const head = repo.commit('build this');
    expect(affectedServices({ repoRoot: repo.root, base, head })).toEqual(['a', 'b']);
  });

  it('selects every app when base and head share no history', () => {
    const repo = createMiniPortal();
    repo.git('switch', '--quiet', '--orphan', 'unrelated');
    repo.write({ 'unrelated.txt': 'another project\n' });
    const base = repo.commit('unrelated');
    expect(affectedServices({ repoRoot: repo.root, base, head: 'main' })).toEqual(['a', 'b']);
  });

  it('reads the workspaces as they are at head, not in the working tree', () => {
    const repo = createMiniPortal();
    const base = repo.git('rev-parse', 'HEAD').trim();
    repo.write({ 'apps/a/src/main.ts': '// changed\n' });
    const head = repo.commit('change a');
    rmSync(path.join(repo.root, 'apps'), { recursive: true });
    expect(affectedServices({ repoRoot: repo.root, base, head })).toEqual(['a']);
  });
});

describe('affectedServices on this repository', () => {
  const repoRoot = git(import.meta.dirname, ['rev-parse', '--show-toplevel']).trim();
  const apps = readdirSync(path.join(repoRoot, 'apps')).filter((dir) => {
    const manifest = path.join(repoRoot, 'apps', dir, 'package.json');
    return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).scripts?.start !== undefined;
  });

  it('names only real apps for the last commit', () => {
    // A shallow clone may not have HEAD~1: then this is a first build.
    const base = resolveCommit(repoRoot, 'HEAD~1');
    const affected = affectedServices({ repoRoot, base, head: 'HEAD' });
    expect(apps).toEqual(expect.arrayContaining(affected));
  });

  it('names every app with a start script on a first build', () => {
    const affected = affectedServices({ repoRoot });
    expect(affected.length).toBeGreaterThan(0);
    expect(apps).toEqual(expect.arrayContaining(affected));
  });
});

describe('outdatedServices', () => {
  const image = (app: string, sha: string) => `registry.test/portal/${app}:${sha.slice(0, 12)}`;

  it('compares each app with the commit its running image was built from, not with one base for all', () => {
    const repo = createMiniPortal();
    const first = repo.git('rev-parse', 'HEAD').trim();
    repo.write({ 'apps/a/src/main.ts': 'export const a = 2;\n' });
    const second = repo.commit('change a');
    repo.write({ 'apps/b/src/main.ts': 'export const b = 2;\n' });
    repo.commit('change b');
    // a runs the second commit (deployed after its change), b the first: only b is behind.
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', image('a', second)], ['b', image('b', first)]]) })).toEqual(['b']);
    // Both deployed from the first commit: both are behind (each changed since).
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', image('a', first)], ['b', image('b', first)]]) })).toEqual(['a', 'b']);
    // A single base, the last successful build, would have said neither.
    expect(affectedServices({ repoRoot: repo.root, base: 'HEAD', head: 'HEAD' })).toEqual([]);
  });

  it('counts as outdated an app that does not run, or whose tag names no commit this clone has', () => {
    const repo = createMiniPortal();
    const head = repo.git('rev-parse', 'HEAD').trim();
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', image('a', head)]]) })).toEqual(['b']);
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', image('a', head)], ['b', 'registry.test/portal/b:0123456789ab']]) })).toEqual(['b']);
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', `${image('a', head)}-dirty`], ['b', 'registry.test/portal/b:latest']]) })).toEqual(['a', 'b']);
    expect(outdatedServices({ repoRoot: repo.root, running: new Map([['a', image('a', head)], ['b', image('b', head)]]) })).toEqual([]);
  });
});
