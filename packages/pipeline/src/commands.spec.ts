import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMiniPortal } from '../test/git-repo.js';
import { runCommand, runSmokeCommand, UsageError } from './commands.js';

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

  it('compares each app with what runs, from a file of running images', () => {
    const repo = createMiniPortal();
    const first = repo.git('rev-parse', 'HEAD').trim();
    repo.write({ 'apps/a/src/main.ts': 'export const a = 2;\n' });
    repo.commit('change a');
    const file = `${repo.root}/.git/running.tsv`;
    writeFileSync(file, `a\tregistry.test/portal/a:${first.slice(0, 12)}\nb\tregistry.test/portal/b:${first.slice(0, 12)}\n\n`);
    expect(runCommand(['affected', '--running', file], repo.root)).toBe('a\n');
    writeFileSync(file, `a registry.test/portal/a:${first.slice(0, 12)}\n`);
    expect(runCommand(['affected', '--running', file, '--json'], repo.root)).toBe('["a","b"]\n');
    writeFileSync(file, 'a\n');
    expect(() => runCommand(['affected', '--running', file], repo.root)).toThrow(/expected "<app> <image>", got 'a'/);
    expect(() => runCommand(['affected', '--running', file, '--base', first], repo.root)).toThrow(UsageError);
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

  it('refuses smoke options that do not parse, naming the option', async () => {
    const log = () => undefined;
    await expect(runSmokeCommand([], log)).rejects.toThrow(/^--url: required/);
    await expect(runSmokeCommand(['--url', 'localhost:8080'], log)).rejects.toThrow(/^--url: must be http or https/);
    await expect(runSmokeCommand(['--url', 'not a url'], log)).rejects.toThrow(/^--url: not a URL \(got 'not a url'\)/);
    await expect(runSmokeCommand(['--url', 'http://localhost:8080', '--wait', 'soon'], log)).rejects.toThrow(
      /^--wait: must be a number of seconds from 0 to 3600 \(got 'soon'\)/,
    );
    await expect(runSmokeCommand(['--url', 'http://localhost:8080', '--unlock-wait=-1'], log)).rejects.toThrow(/^--unlock-wait: /);
    await expect(runSmokeCommand(['--url', 'http://localhost:8080', '--retries', '3'], log)).rejects.toThrow(UsageError);
  });
});
