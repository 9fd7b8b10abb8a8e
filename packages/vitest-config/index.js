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
  return mergeConfig(
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
}
