import { git, resolveCommit } from './git.js';

export interface ImageTagOptions {
  /** The repository's top-level directory. */
  repoRoot: string;
  /** The commit to tag; `HEAD` by default. */
  rev?: string | undefined;
}

/**
 * The tag for images built from `rev`: the first 12 characters of its sha, plus
 * `-dirty` when `rev` is the checked-out commit and the working tree differs from
 * it (tracked changes or untracked files, which a build context would copy).
 *
 * Twelve characters, not `git rev-parse --short`, whose length grows with the
 * repository: the same commit gets the same tag in every clone. `-dirty` keeps an
 * image built from uncommitted work on a laptop from passing for the commit.
 */
export function imageTag({ repoRoot, rev = 'HEAD' }: ImageTagOptions): string {
  const sha = resolveCommit(repoRoot, rev);
  if (sha === undefined) throw new Error(`git does not know the revision '${rev}'`);
  // The working tree says nothing about a commit other than the checked-out one.
  const dirty =
    sha === resolveCommit(repoRoot, 'HEAD') &&
    git(repoRoot, ['status', '--porcelain', '--untracked-files=normal']).trim() !== '';
  return `${sha.slice(0, 12)}${dirty ? '-dirty' : ''}`;
}
