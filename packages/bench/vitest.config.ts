import { definePackageConfig } from '@portal/vitest-config';

export default definePackageConfig();
