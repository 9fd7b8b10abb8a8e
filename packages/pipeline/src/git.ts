import { execFileSync } from 'node:child_process';

/** Runs git in `repoRoot` and returns its standard output; throws with git's message when it fails. */
export function git(repoRoot: string, args: readonly string[]): string {
  return execFileSync('git', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Like `git()`, but `undefined` where git says no (an unknown revision, no merge base). */
export function gitMaybe(repoRoot: string, args: readonly string[]): string | undefined {
  try {
    return git(repoRoot, args);
  } catch {
    return undefined;
  }
}

/** The full sha of `rev`, or `undefined` when this clone does not have it. */
export function resolveCommit(repoRoot: string, rev: string): string | undefined {
  return gitMaybe(repoRoot, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])?.trim();
}
