#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SIZES, compare } from './compare.js';
import { checkDocker, containerDeployer } from './container.stack.js';
import { processDeployer } from './process.stack.js';
import { missingFigures, writeReport } from './report.js';

const USAGE = `usage: npm run compare -- [--size ci|full] [--mode container|process] [--out DIR]
  --size   ci: about two minutes, for CI; full: several minutes, for the committed report (default full; or COMPARE_SIZE)
  --mode   container: each shape as a Docker Compose project (deploy/compose), images portal/<app>:$PORTAL_TAG (default local),
           built from this tree first; process: every part a node process on this machine, embedded databases.
           Default: container when a Docker engine and Compose answer, else process
  --out    where report.md, compare.svg and report.json go (default: docs/compare for full, a temporary folder for ci)`;

class UsageError extends Error {}
/** Said as it is, without a stack: nothing in this program went wrong, something on the machine is missing. */
class MissingError extends Error {}

function git(args: string[]): string {
  const run = spawnSync('git', args, { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : '';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      size: { type: 'string', default: process.env.COMPARE_SIZE ?? 'full' },
      mode: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const size = SIZES[values.size as keyof typeof SIZES];
  if (!size) throw new UsageError(`--size (or COMPARE_SIZE) must be ci or full, got '${values.size}'`);
  if (values.mode !== undefined && values.mode !== 'process' && values.mode !== 'container') {
    throw new UsageError(`--mode must be container or process, got '${values.mode}'`);
  }
  const out = resolve(values.out ?? (size.name === 'full' ? 'docs/compare' : join(tmpdir(), 'portal-compare-ci')));
  const log = (line: string) => process.stderr.write(`[compare] ${line}\n`);
  const began = performance.now();
  let mode = values.mode;
  if (mode !== 'process') {
    const docker = await checkDocker();
    if (!docker.ok && mode === 'container') throw new MissingError(`--mode container: ${docker.reason}`);
    if (mode === undefined) {
      mode = docker.ok ? 'container' : 'process';
      log(docker.ok ? `mode: container (Docker ${docker.server} and ${docker.compose.join(' ')} answer; --mode process for node processes)` : `mode: process (${docker.reason})`);
    }
  }
  // 'always': the report is of this tree, never of images left from another commit (cached layers keep it quick).
  const deployer = mode === 'container' ? containerDeployer({ log, build: 'always' }) : processDeployer;
  const result = await compare({ deployer, size, log });
  const commit = git(['rev-parse', '--short=12', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain']) ? '-dirty' : '';
  const cpu = cpus();
  const written = await writeReport(result, out, {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `npm run compare -- --size ${size.name} --mode ${mode}`,
    commit: `${commit}${dirty}`,
    machine: `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    bus:
      mode === 'container'
        ? "Kafka between services (the Compose stack's broker), in process in the monolith"
        : process.env.KAFKA_BROKERS
          ? `Kafka at ${process.env.KAFKA_BROKERS} between services`
          : 'in process (no KAFKA_BROKERS: each service keeps its events)',
  });
  console.log(written.markdown);
  log(`written: ${Object.values(written.files).join(', ')} (${((performance.now() - began) / 1_000).toFixed(0)} s in all)`);
  const missing = missingFigures(result);
  if (missing.length > 0) {
    console.error(`the report is incomplete:\n  ${missing.join('\n  ')}`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof MissingError) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  }
}
