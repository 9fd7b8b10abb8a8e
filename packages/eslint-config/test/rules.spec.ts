import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import config from '@portal/eslint-config';

/** Two sibling packages in a throwaway tree, linted with the real preset. */
function lintTree(files: Record<string, string>) {
  const root = mkdtempSync(path.join(tmpdir(), 'portal-lint-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });
  return eslint.lintFiles(['**/*.ts']);
}

function ruleIds(results: ESLint.LintResult[]): string[] {
  return results.flatMap((r) => r.messages.map((m) => m.ruleId ?? m.message));
}

describe('the lint preset', () => {
  it('rejects a relative import into another package and allows one inside', async () => {
    const results = await lintTree({
      'packages/a/package.json': '{}',
      'packages/a/src/util.ts': 'export const one = 1;\n',
      'packages/a/src/index.ts': "export { one } from './util.js';\n",
      'packages/b/package.json': '{}',
      'packages/b/src/index.ts': "export { one } from '../../a/src/util.js';\n",
    });
    const byFile = Object.fromEntries(
      results.map((r) => [path.basename(path.dirname(path.dirname(r.filePath))) + '/' + path.basename(r.filePath), ruleIds([r])]),
    );
    expect(byFile['b/index.ts']).toContain('portal/no-cross-package-relative');
    expect(byFile['a/index.ts']).toEqual([]);
  });

  it('rejects deep imports into another package and bare suppressions', async () => {
    const results = await lintTree({
      'packages/c/package.json': '{}',
      'packages/c/src/index.ts': [
        "import { x } from '@portal/testing/src/kafka.js';",
        '// eslint-disable-next-line no-var',
        'var y = x;',
        '// eslint-disable-next-line no-var -- kept to show a suppression with its reason',
        'var z = y;',
        'export { z };',
        '',
      ].join('\n'),
    });
    const ids = ruleIds(results);
    expect(ids).toContain('no-restricted-imports');
    expect(ids.filter((id) => id === 'portal/suppression-needs-reason')).toHaveLength(1);
  });
});
