import { definePackageConfig } from '@portal/vitest-config';

export default definePackageConfig({ test: { include: ['**/*.spec.ts'], exclude: ['**/node_modules/**'] } });
