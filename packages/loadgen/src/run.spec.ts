import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport } from './format.js';
import { OPERATIONS } from './mix.js';
import type { Mix } from './mix.js';
import { runLoad, summarize } from './run.js';
import type { RequestResult } from './run.js';
import type { Content } from './setup.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CONTENT: Content = {
  users: [{ id: uuid(1), token: 't' }],
  series: [uuid(10)],
  freeEpisodes: [uuid(20)],
  paidEpisodes: [{ id: uuid(30), priceCents: 300, currency: 'USD' }],
  articles: [uuid(40)],
  categories: ['tech'],
  posts: [uuid(50)],
};

/** A stand-in target: episodes answer 200 at once, categories after 50 ms, rankings 500 (an unexpected answer). */
let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (status: number) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    if (req.url?.startsWith('/api/news/categories')) setTimeout(() => send(200), 50);
    else if (req.url?.startsWith('/api/webtoon/rankings')) send(500);
    else send(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const mix = (...ops: (typeof OPERATIONS)[keyof typeof OPERATIONS][]): Mix => ({ name: 'test', entries: ops.map((op) => ({ op, weight: 1 })) });

describe('runLoad', () => {
  it('open model: sends exactly what the shape asks, spread over the seconds, and reaches the target', async () => {
    const report = await runLoad({ baseUrl, mix: mix(OPERATIONS.readEpisode), shape: { kind: 'step', seconds: 2, from: 50, to: 150, steps: 2 }, content: CONTENT, progress: false });
    expect(report.sent).toBe(200);
    expect(report.target).toBe(200);
    expect(report.targetReached).toBe(true);
    expect(report.timeline.map((s) => s.target)).toEqual([50, 150]);
    // The timer sends on time: each second's count is within 10 of its target (a busy machine delays a tick across a second boundary).
    report.timeline.forEach((s) => expect(Math.abs(s.sent - s.target)).toBeLessThanOrEqual(10));
    const total = summarize(report);
    expect(total).toMatchObject({ requests: 200, errors: 0 });
    expect(total.p50).toBeGreaterThan(0);
  });

  it('keeps the rate whatever the answers do, and counts what the in-flight bound kept from being sent', async () => {
    // Categories take 50 ms: at 200/s that is ~10 in flight, over a bound of 4.
    const report = await runLoad({ baseUrl, mix: mix(OPERATIONS.categories), shape: { kind: 'steady', seconds: 1, rate: 200 }, content: CONTENT, maxInFlight: 4, progress: false });
    expect(report.sent + report.missed).toBe(200);
    expect(report.missed).toBeGreaterThan(50);
    expect(report.targetReached).toBe(false);
    expect(summarize(report).p50).toBeGreaterThanOrEqual(50);
    expect(formatReport(report)).toMatch(/TARGET RATE NOT REACHED: \d+ of 200 requests sent \(\d+ not sent: the in-flight bound was reached/);
  });

  it('closed model: a fixed number in flight, each sent as the last returns', async () => {
    const report = await runLoad({ baseUrl, mix: mix(OPERATIONS.categories), shape: { kind: 'closed', seconds: 1, concurrency: 2 }, content: CONTENT, progress: false });
    // 2 in flight, 50 ms each: about 40 in a second, never 2x that.
    expect(report.sent).toBeGreaterThan(10);
    expect(report.sent).toBeLessThanOrEqual(42);
    expect(report.missed).toBe(0);
  });

  it('counts unexpected answers and failed connections as errors, per route, and reports each request', async () => {
    const results: RequestResult[] = [];
    const report = await runLoad({
      baseUrl,
      mix: mix(OPERATIONS.readEpisode, OPERATIONS.rankings),
      shape: { kind: 'steady', seconds: 1, rate: 100 },
      content: CONTENT,
      progress: false,
      onResult: (r) => results.push(r),
    });
    const episodes = report.routes.get(OPERATIONS.readEpisode.route);
    const rankings = report.routes.get(OPERATIONS.rankings.route);
    expect(episodes?.errors).toBe(0);
    expect(rankings?.requests).toBeGreaterThan(20);
    expect(rankings?.errors).toBe(rankings?.requests);
    expect(rankings?.outcomes).toEqual({ 500: rankings?.requests });
    expect(results).toHaveLength(100);
    expect(results.filter((r) => !r.ok).every((r) => r.route === OPERATIONS.rankings.route && r.status === 500)).toBe(true);

    const refused = await runLoad({ baseUrl: 'http://127.0.0.1:1', mix: mix(OPERATIONS.readEpisode), shape: { kind: 'steady', seconds: 0.2, rate: 50 }, content: CONTENT, progress: false });
    expect(refused.routes.get(OPERATIONS.readEpisode.route)?.outcomes).toEqual({ connect: 10 });
  });

  it('ends early when its signal aborts, and reports the time it ran', async () => {
    // Aborted on a condition (50 answers back), not after a set time.
    const stop = new AbortController();
    let answered = 0;
    const report = await runLoad({
      baseUrl,
      mix: mix(OPERATIONS.readEpisode),
      shape: { kind: 'steady', seconds: 30, rate: 100 },
      content: CONTENT,
      progress: false,
      signal: stop.signal,
      onResult: () => {
        answered += 1;
        if (answered === 50) stop.abort();
      },
    });
    expect(report.sent).toBeGreaterThanOrEqual(50);
    expect(report.seconds).toBeLessThan(30);
    expect(report.target).toBe(Math.floor(report.seconds * 100));
    expect(report.sent).toBe(report.target);
    expect(report.timeline.length).toBe(Math.ceil(report.seconds));
  });

  it('rejects a base URL with a path, naming it', async () => {
    await expect(runLoad({ baseUrl: `${baseUrl}/api`, mix: mix(OPERATIONS.me), shape: { kind: 'steady', seconds: 1, rate: 1 }, content: CONTENT, progress: false })).rejects.toThrow(
      /baseUrl must be http\(s\):\/\/host\[:port\] without a path/,
    );
  });
});
