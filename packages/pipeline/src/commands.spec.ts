import { describe, expect, it } from 'vitest';
import { createMiniPortal } from '../test/git-repo.js';
import { runCommand, UsageError } from './commands.js';

describe('runCommand', () => {
  it('prints the affected apps one a line, or as JSON, from anywhere in the repository', () => {
    const repo = createMiniPortal();
    const base = repo.git('rev-parse', 'HEAD').trim();
    repo.write({ 'packages/shared/src/index.ts': '// changed\n' });
    repo.commit('change shared');
    const cwd = `${repo.root}/packages/shared`;
    expect(runCommand(['affected', '--base', base], cwd)).toBe('a\nb\n');
    expect(runCommand(['affected', '--base', base, '--head', 'HEAD~1'], cwd)).toBe('');
    expect(runCommand(['affected', '--base', base, '--json'], cwd)).toBe('["a","b"]\n');
    expect(runCommand(['affected', '--base', ''], repo.root)).toBe('a\nb\n');
  });

  it('prints the image tag', () => {
    const repo = createMiniPortal();
    const head = repo.git('rev-parse', 'HEAD').trim();
    expect(runCommand(['image-tag'], repo.root)).toBe(`${head.slice(0, 12)}\n`);
    expect(runCommand(['image-tag', '--rev', head], repo.root)).toBe(`${head.slice(0, 12)}\n`);
  });

  it('calls an unknown command or option a usage error', () => {
    const repo = createMiniPortal();
    expect(() => runCommand([], repo.root)).toThrow(UsageError);
    expect(() => runCommand(['deploy'], repo.root)).toThrow(UsageError);
    expect(() => runCommand(['affected', '--bsae', 'main'], repo.root)).toThrow(UsageError);
    expect(() => runCommand(['affected', '--base'], repo.root)).toThrow(UsageError);
  });
});
