import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig, mergeConfig } from 'vitest/config';

// Vite's own TypeScript transform drops decorator metadata, and NestJS cannot
// inject constructor dependencies without it; SWC emits it like tsc does.
const swcPlugin = swc.vite({
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'es6' },
});

const conditions = ['@portal/source', ...defaultServerConditions];

/** @type {import('./index.d.ts').definePackageConfig} */
export function definePackageConfig(overrides = {}) {
  const config = mergeConfig(
    defineConfig({
      plugins: [swcPlugin],
      resolve: { conditions },
      ssr: { resolve: { conditions } },
      test: {
        include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
        environment: 'node',
        // Integration tests start real servers; a cold Kafka takes tens of seconds
        // on two cores. These are bounds, not waits.
        testTimeout: 60_000,
        hookTimeout: 300_000,
        reporters: process.env.CI === 'true' ? ['verbose'] : ['default'],
      },
    }),
    overrides,
  );
  return forCi(config, process.env);
}

/**
 * What CI asks for through the environment (turbo passes both on, see turbo.json):
 * - TEST_SCOPE=unit runs only the specs next to the code (`src/`), which need
 *   nothing; TEST_SCOPE=integration only the others (`test/`, and a package's
 *   own patterns such as deploy's), which start servers. A package with none
 *   in a scope passes.
 * - JUNIT_REPORT_DIR=<dir> adds a JUnit XML report, `<dir>/<package>[-<scope>].xml`,
 *   for the CI server to publish.
 * @param {import('vitest/config').ViteUserConfig} config
 * @param {NodeJS.ProcessEnv} env
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function forCi(config, env) {
  const test = { ...config.test };
  const scope = env.TEST_SCOPE || undefined;
  if (scope !== undefined) {
    if (scope !== 'unit' && scope !== 'integration') {
      throw new Error(`TEST_SCOPE: must be 'unit' or 'integration' (got '${scope}')`);
    }
    const include = test.include ?? [];
    test.include = include.filter((pattern) => pattern.startsWith('src/') === (scope === 'unit'));
    test.passWithNoTests = true;
  }
  if (env.JUNIT_REPORT_DIR) {
    const root = resolve(config.root ?? process.cwd());
    const name = packageName(root);
    const file = `${name.replace(/^@/, '').replace(/\//g, '-')}${scope ? `-${scope}` : ''}.xml`;
    test.reporters = [
      ...(test.reporters === undefined ? ['default'] : [test.reporters].flat()),
      ['junit', { suiteName: name, classnameTemplate: `${name}/{filename}` }],
    ];
    test.outputFile = { ...(typeof test.outputFile === 'object' ? test.outputFile : {}), junit: resolve(env.JUNIT_REPORT_DIR, file) };
  }
  return { ...config, test };
}

/** @param {string} root */
function packageName(root) {
  try {
    const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // No package.json: the folder's name will do.
  }
  return root.split('/').pop() ?? 'tests';
}
