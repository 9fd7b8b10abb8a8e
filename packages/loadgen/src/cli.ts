#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { MIXES } from './mix.js';
import { runLoad, summarize } from './run.js';
import { prepare } from './setup.js';
import { checkShape } from './shapes.js';
import type { LoadShape } from './shapes.js';

const USAGE = `usage: npm run loadgen -- [options]
  --url URL          the gateway or the monolith (default http://localhost:8080)
  --mix NAME         ${Object.keys(MIXES).join(' | ')} (default portal)
  --shape KIND       steady | step | spike | closed (default steady)
  --seconds N        length of the run (default 30)
  --rate N           requests/s: steady, the base of spike (default 100)
  --from N --to N --steps N    step: from one rate to another in equal steps
  --peak N --at N --spike-seconds N   spike: the peak rate, when, how long
  --concurrency N    closed: requests in flight (default 32)
  --users N          accounts registered in the set-up phase (default 4)
  --max-in-flight N  open shapes: requests beyond this are not sent and counted (default 256)
  --json             print the report as JSON on stdout (progress stays on stderr)`;

class UsageError extends Error {}

function number(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${String(raw)}'`);
  return value;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'http://localhost:8080' },
      mix: { type: 'string', default: 'portal' },
      shape: { type: 'string', default: 'steady' },
      seconds: { type: 'string' },
      rate: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      steps: { type: 'string' },
      peak: { type: 'string' },
      at: { type: 'string' },
      'spike-seconds': { type: 'string' },
      concurrency: { type: 'string' },
      users: { type: 'string' },
      'max-in-flight': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const mix = MIXES[values.mix];
  if (!mix) throw new UsageError(`--mix must be one of ${Object.keys(MIXES).join(', ')}, got '${values.mix}'`);
  const seconds = number(values, 'seconds', 30);
  const rate = number(values, 'rate', 100);
  let shape: LoadShape;
  switch (values.shape) {
    case 'steady':
      shape = { kind: 'steady', seconds, rate };
      break;
    case 'step':
      shape = { kind: 'step', seconds, from: number(values, 'from', rate), to: number(values, 'to', rate * 4), steps: number(values, 'steps', 4) };
      break;
    case 'spike':
      shape = {
        kind: 'spike',
        seconds,
        rate,
        peak: number(values, 'peak', rate * 5),
        at: number(values, 'at', seconds / 3),
        spikeSeconds: number(values, 'spike-seconds', seconds / 6),
      };
      break;
    case 'closed':
      shape = { kind: 'closed', seconds, concurrency: number(values, 'concurrency', 32) };
      break;
    default:
      throw new UsageError(`--shape must be steady, step, spike or closed, got '${values.shape}'`);
  }
  try {
    checkShape(shape);
  } catch (error) {
    throw new UsageError(`--shape ${shape.kind}: ${(error as Error).message}`);
  }
  return { values, mix, shape, users: number(values, 'users', 4), maxInFlight: number(values, 'max-in-flight', 256) };
}

try {
  const args = parse(process.argv.slice(2));
  if (args.values.help) {
    console.log(USAGE);
  } else {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const content = await prepare(args.values.url, { users: args.users, log });
    const report = await runLoad({ baseUrl: args.values.url, mix: args.mix, shape: args.shape, content, maxInFlight: args.maxInFlight });
    const expects = new Map(args.mix.entries.map((e) => [e.op.route, e.op.expect]));
    if (args.values.json) {
      const routes = [...report.routes.values()].map((s) => ({ ...summarize(report, (r) => r === s), route: s.route, outcomes: s.outcomes }));
      console.log(JSON.stringify({ mix: report.mix, shape: report.shape, sent: report.sent, target: report.target, targetReached: report.targetReached, total: summarize(report), routes, timeline: report.timeline }, null, 2));
    } else {
      console.log(formatReport(report, expects));
    }
  }
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
