import type { ViteUserConfig } from 'vitest/config';

/** The package's vitest config: the shared preset with `overrides` merged on top. */
export function definePackageConfig(overrides?: ViteUserConfig): ViteUserConfig;

/**
 * Applies what CI asks for through `env`: TEST_SCOPE (`unit`: only `src/` specs;
 * `integration`: only the others) and JUNIT_REPORT_DIR (a JUnit XML report per package).
 */
export function forCi(config: ViteUserConfig, env: NodeJS.ProcessEnv): ViteUserConfig;
