import type { ViteUserConfig } from 'vitest/config';

/** The package's vitest config: the shared preset with `overrides` merged on top. */
export function definePackageConfig(overrides?: ViteUserConfig): ViteUserConfig;
