#!/usr/bin/env node
import { runCommand, USAGE, UsageError } from './commands.js';

try {
  process.stdout.write(runCommand(process.argv.slice(2), process.cwd()));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
