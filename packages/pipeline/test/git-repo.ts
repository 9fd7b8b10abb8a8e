import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

export interface GitRepo {
  root: string;
  git(...args: string[]): string;
  /** Writes files (paths relative to the root), creating folders. */
  write(files: Record<string, string>): void;
  /** Commits everything in the working tree and returns the new commit's sha. */
  commit(message: string): string;
}

/** A fresh repository in a temporary folder, removed when the test ends. */
export function createRepo(): GitRepo {
  const root = mkdtempSync(path.join(tmpdir(), 'pipeline-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git('init', '--quiet', '--initial-branch=main');
  // Local settings, so the developer's or the agent's global git config does not matter.
  git('config', 'user.name', 'Pipeline Test');
  git('config', 'user.email', 'pipeline@example.com');
  git('config', 'commit.gpgsign', 'false');
  return {
    root,
    git,
    write(files) {
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        writeFileSync(path.join(root, file), text);
      }
    },
    commit(message) {
      git('add', '--all');
      git('commit', '--quiet', '--allow-empty', '--message', message);
      return git('rev-parse', 'HEAD').trim();
    },
  };
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * A miniature of this repository: apps a and b on packages/shared, which depends
 * on packages/core; b has packages/other as a devDependency only; apps/tools has
 * no start script, so it is not deployed.
 */
export function createMiniPortal(): GitRepo {
  const repo = createRepo();
  const scripts = { build: 'tsc', start: 'node dist/main.js' };
  const app = (name: string, extra: object) => json({ name: `@portal/${name}`, scripts, ...extra });
  const lib = (name: string, extra: object = {}) => json({ name: `@portal/${name}`, ...extra });
  repo.write({
    'package.json': json({ name: 'mini', private: true, workspaces: ['apps/*', 'packages/*'] }),
    'package-lock.json': json({ name: 'mini', lockfileVersion: 3, packages: {} }),
    'tsconfig.base.json': json({ compilerOptions: { strict: true } }),
    'eslint.config.js': 'export default [];\n',
    'README.md': '# mini\n',
    'docs/x.md': '# x\n',
    'apps/a/package.json': app('a-service', { dependencies: { '@portal/shared': '*' } }),
    'apps/a/src/main.ts': 'export const a = 1;\n',
    'apps/b/package.json': app('b-service', {
      dependencies: { '@portal/shared': '*' },
      devDependencies: { '@portal/other': '*' },
    }),
    'apps/b/src/main.ts': 'export const b = 1;\n',
    'apps/tools/package.json': lib('tools', { dependencies: { '@portal/shared': '*' } }),
    'apps/tools/src/index.ts': 'export const tools = 1;\n',
    'packages/shared/package.json': lib('shared', { dependencies: { '@portal/core': '*' } }),
    'packages/shared/src/index.ts': 'export const shared = 1;\n',
    'packages/shared/src/index.spec.ts': '// a test\n',
    'packages/shared/README.md': '# shared\n',
    'packages/core/package.json': lib('core'),
    'packages/core/src/index.ts': 'export const core = 1;\n',
    'packages/other/package.json': lib('other'),
    'packages/other/src/index.ts': 'export const other = 1;\n',
  });
  repo.commit('a miniature portal');
  return repo;
}
