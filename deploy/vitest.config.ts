import { definePackageConfig } from '@portal/vitest-config';

// The cluster suite (cluster/) is a task of its own, test:cluster: vitest.cluster.config.ts.
export default definePackageConfig({ test: { include: ['**/*.spec.ts'], exclude: ['**/node_modules/**', 'cluster/**'] } });
