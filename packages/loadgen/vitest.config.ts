import { definePackageConfig } from '@portal/vitest-config';

// One file at a time: the integration tests start the apps as processes and
// measure them; two at once on a 2-core machine would measure each other.
export default definePackageConfig({ test: { fileParallelism: false } });
