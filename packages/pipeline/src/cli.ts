#!/usr/bin/env node
import { runCommand, runSmokeCommand, USAGE, UsageError } from './commands.js';

try {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'smoke') {
    process.exitCode = await runSmokeCommand(args, (line) => console.log(line));
  } else {
    process.stdout.write(runCommand(process.argv.slice(2), process.cwd()));
  }
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
