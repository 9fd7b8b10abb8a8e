import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import { forCi } from '../index.js';

const base = { test: { include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', '**/*.check.ts'], reporters: ['default'] } };

describe('forCi', () => {
  it('changes nothing when CI asks for nothing', () => {
    expect(forCi(base, {})).toEqual(base);
  });

  it('splits the specs next to the code (unit) from the others (integration)', () => {
    expect(forCi(base, { TEST_SCOPE: 'unit' }).test).toMatchObject({ include: ['src/**/*.spec.ts'], passWithNoTests: true });
    expect(forCi(base, { TEST_SCOPE: 'integration' }).test).toMatchObject({
      include: ['test/**/*.spec.ts', '**/*.check.ts'],
      passWithNoTests: true,
    });
    expect(() => forCi(base, { TEST_SCOPE: 'e2e' })).toThrow("TEST_SCOPE: must be 'unit' or 'integration' (got 'e2e')");
  });

  it('writes a JUnit report per package and scope when asked, next to the usual reporter', async () => {
    const pkg = mkdtempSync(join(tmpdir(), 'vitest-config-'));
    const reports = mkdtempSync(join(tmpdir(), 'junit-'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@portal/example' }));
    const config = forCi({ root: pkg, test: { include: ['*.check.ts'] } }, { JUNIT_REPORT_DIR: reports, TEST_SCOPE: 'integration' });
    expect(config.test?.outputFile).toEqual({ junit: join(reports, 'portal-example-integration.xml') });

    // The report is real: vitest writes it, with the package as the suite's name.
    writeFileSync(join(pkg, 'one.check.ts'), "import { it } from 'vitest';\nit('passes', () => {});\nit('passes too', () => {});\n");
    // Only the JUnit reporter, so the nested run keeps out of this run's output.
    const junit = [config.test?.reporters].flat().at(-1);
    expect(junit).toEqual(['junit', { suiteName: '@portal/example', classnameTemplate: '@portal/example/{filename}' }]);
    const vitest = await startVitest('test', [], { ...config.test, root: pkg, watch: false, reporters: [junit] as never }, {});
    await vitest.close();
    expect(readdirSync(reports)).toEqual(['portal-example-integration.xml']);
    const xml = readFileSync(join(reports, 'portal-example-integration.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="@portal\/example" tests="2" failures="0"/);
    expect(xml).toContain('classname="@portal/example/one.check.ts" name="passes"');
  });
});
