import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRepo } from '../test/git-repo.js';
import { imageTag } from './image-tag.js';

function repoWithTwoCommits() {
  const repo = createRepo();
  repo.write({ 'main.ts': 'export const version = 1;\n' });
  const first = repo.commit('first');
  repo.write({ 'main.ts': 'export const version = 2;\n' });
  const second = repo.commit('second');
  return { repo, first, second };
}

describe('imageTag', () => {
  it('is the first 12 characters of the commit sha when the working tree is clean', () => {
    const { repo, first, second } = repoWithTwoCommits();
    expect(imageTag({ repoRoot: repo.root })).toBe(second.slice(0, 12));
    expect(imageTag({ repoRoot: repo.root, rev: 'HEAD~1' })).toBe(first.slice(0, 12));
    expect(imageTag({ repoRoot: repo.root })).toMatch(/^[0-9a-f]{12}$/);
  });

  it('ends in -dirty when the checked-out commit has changes or untracked files', () => {
    const { repo, second } = repoWithTwoCommits();
    repo.write({ 'main.ts': 'export const version = 3;\n' });
    expect(imageTag({ repoRoot: repo.root })).toBe(`${second.slice(0, 12)}-dirty`);

    repo.git('checkout', '--quiet', '--', 'main.ts');
    repo.write({ 'new.ts': 'export {};\n' });
    expect(imageTag({ repoRoot: repo.root })).toBe(`${second.slice(0, 12)}-dirty`);

    rmSync(path.join(repo.root, 'new.ts'));
    expect(imageTag({ repoRoot: repo.root })).toBe(second.slice(0, 12));
  });

  it('does not call another commit dirty for changes in the working tree', () => {
    const { repo, first } = repoWithTwoCommits();
    repo.write({ 'main.ts': 'export const version = 3;\n' });
    expect(imageTag({ repoRoot: repo.root, rev: first })).toBe(first.slice(0, 12));
  });

  it('ignores what .gitignore ignores, such as build output', () => {
    const { repo, second } = repoWithTwoCommits();
    repo.write({ '.gitignore': 'dist/\n' });
    repo.commit('ignore dist');
    repo.write({ 'dist/main.js': 'export const version = 2;\n' });
    expect(imageTag({ repoRoot: repo.root })).not.toContain('-dirty');
    expect(imageTag({ repoRoot: repo.root })).not.toBe(second.slice(0, 12));
  });

  it('names a revision git does not know', () => {
    const { repo } = repoWithTwoCommits();
    expect(() => imageTag({ repoRoot: repo.root, rev: 'no-such-branch' })).toThrow(/no-such-branch/);
  });
});
