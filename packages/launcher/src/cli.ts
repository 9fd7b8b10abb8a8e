#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { launch } from './launcher.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
process.exitCode = await launch({
  root,
  env: process.env,
  say: (line) => console.log(`[start] ${line}`),
  services: [`${root}node_modules/.bin/turbo`, 'run', 'start', '--filter=./apps/*', '--filter=!@portal/monolith'],
});
