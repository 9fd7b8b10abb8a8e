import { definePackageConfig } from '@portal/vitest-config';

// One cluster, one suite, its steps in order: nothing runs beside it.
export default definePackageConfig({
  test: { include: ['cluster/**/*.spec.ts'], fileParallelism: false, testTimeout: 20 * 60_000, hookTimeout: 90 * 60_000 },
});
