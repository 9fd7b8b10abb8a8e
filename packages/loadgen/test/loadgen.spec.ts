import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { OPERATIONS, formatReport, prepare, runLoad, summarize } from '@portal/loadgen';
import type { Content, LoadReport, Mix } from '@portal/loadgen';

const monolithEntry = createRequire(import.meta.url).resolve('@portal/monolith');
/** Every operation the mixes use, in equal shares, so each route gets enough requests to judge (the mixes' proportions are unit-tested). */
const EVERY_ROUTE: Mix = { name: 'every route', entries: Object.values(OPERATIONS).map((op) => ({ op, weight: 1 })) };

describe('the load generator against a real monolith process', () => {
  let monolith: ServiceProcess;
  let content: Content;
  let report: LoadReport;

  beforeAll(async () => {
    // The embedded defaults, as `npm run start:monolith` has them.
    monolith = await startProcess(monolithEntry, {
      env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: undefined, DATA_DIR: undefined, LOG_LEVEL: 'warn', FAULT_INJECTION: undefined },
      timeoutMs: 120_000,
    });
    content = await prepare(monolith.url, { users: 2 });
    // Low and short: enough for every route of the mix to be hit a few times, on a shared machine.
    report = await runLoad({ baseUrl: monolith.url, mix: EVERY_ROUTE, shape: { kind: 'steady', seconds: 6, rate: 50 }, content, seed: 2 });
    console.log(formatReport(report, new Map(EVERY_ROUTE.entries.map((e) => [e.op.route, e.op.expect]))));
  }, 300_000);

  afterAll(async () => {
    await monolith?.stop('SIGTERM');
  });

  it('set up users and found the demo content through the API', () => {
    expect(content.users).toHaveLength(2);
    expect(content.users.every((u) => u.token.split('.').length === 3)).toBe(true);
    expect(content.freeEpisodes.length).toBeGreaterThanOrEqual(2);
    expect(content.paidEpisodes.length).toBeGreaterThanOrEqual(1);
    expect(content.articles.length).toBeGreaterThan(0);
    expect(content.posts.length).toBeGreaterThan(0);
  });

  it('sent every route requests, at the target rate', () => {
    expect(report.sent).toBe(300);
    expect(report.targetReached).toBe(true);
    for (const { op } of EVERY_ROUTE.entries) expect(report.routes.get(op.route)?.requests, op.route).toBeGreaterThan(0);
  });

  it('got only the answers each route expects: no unexpected errors', () => {
    const unexpected = [...report.routes.values()].filter((s) => s.errors > 0).map((s) => `${s.route}: ${JSON.stringify(s.outcomes)}`);
    expect(unexpected).toEqual([]);
    expect(summarize(report).errors).toBe(0);
  });

  it('measured latencies that make sense: p50 <= p99 <= max, all above zero', () => {
    const total = summarize(report);
    expect(total.p50).toBeGreaterThan(0);
    expect(total.p99).toBeGreaterThanOrEqual(total.p50);
    expect(total.max).toBeGreaterThanOrEqual(total.p99);
    expect(total.rps).toBeCloseTo(50, 0);
  });
});
