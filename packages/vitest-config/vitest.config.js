import { definePackageConfig } from './index.js';

export default definePackageConfig();
