import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { runSmokeCommand } from '../src/commands.js';
import { runSmoke, SMOKE_STEPS } from '../src/smoke.js';

// The monolith serves the very /api routes the gateway does, with the same
// demo data and the payment event unlocking the episode: the smoke test runs
// against it as it runs against the gateway.
const monolithEntry = fileURLToPath(new URL('../../../apps/monolith/dist/main.js', import.meta.url));

let monolith: ServiceProcess;
const servers: Server[] = [];

beforeAll(async () => {
  monolith = await startProcess(monolithEntry, {
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'true', DATA_DIR: undefined },
  });
});
afterAll(async () => {
  for (const server of servers) server.close();
  await monolith?.stop('SIGTERM');
});

/** A proxy in front of the monolith; `intercept` answers some requests itself (returns true) to break a step. */
async function proxy(intercept: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<string> {
  const upstream = new URL(monolith.url);
  const server = createServer((req, res) => {
    if (intercept(req, res)) return;
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the smoke test', () => {
  it('passes every step against the portal, printing a line per step', async () => {
    const lines: string[] = [];
    const code = await runSmokeCommand(['--url', monolith.url, '--wait', '30'], (line) => lines.push(line));
    const output = lines.join('\n');
    expect(code, output).toBe(0);
    for (const [index, step] of SMOKE_STEPS.entries()) {
      expect(output).toContain(`ok   [${index + 1}/${SMOKE_STEPS.length}] ${step}`);
    }
    expect(output).toMatch(/smoke test passed: 10 steps$/);
  });

  it('makes the article and the series it needs once where there is no demo data (as in production)', async () => {
    const bare = await startProcess(monolithEntry, {
      env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false', DATA_DIR: undefined },
    });
    try {
      const first: string[] = [];
      expect(await runSmokeCommand(['--url', bare.url], (line) => first.push(line)), first.join('\n')).toBe(0);
      expect(first).toContain('      no articles yet: publishing one');
      expect(first).toContain('      no series with a free and a paid episode yet: creating one');

      const second: string[] = [];
      expect(await runSmokeCommand(['--url', bare.url], (line) => second.push(line)), second.join('\n')).toBe(0);
      expect(second.join('\n')).not.toMatch(/publishing|creating/);
      const series = (await (await fetch(`${bare.url}/api/webtoon/series`)).json()) as { items: unknown[] };
      expect(series.items).toHaveLength(1);
    } finally {
      await bare.stop('SIGTERM');
    }
  });

  it('fails, naming the step, against a server whose paywall lets a locked episode through', async () => {
    // Every episode read answers 200, paid or not: the 402 step must catch it.
    const url = await proxy((req, res) => {
      if (req.method !== 'GET' || !/^\/api\/webtoon\/episodes\/[^/]+$/.test(req.url ?? '')) return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', content: 'free for all' }));
      return true;
    });
    const lines: string[] = [];
    const code = await runSmokeCommand(['--url', url, '--wait', '10'], (line) => lines.push(line));
    const output = lines.join('\n');
    expect(code, output).toBe(1);
    expect(output).toContain("smoke test failed at step 'a locked episode answers 402'");
    expect(output).toMatch(/FAIL \[8\/10\] a locked episode answers 402 .*\n.*GET \/api\/webtoon\/episodes\/\S+ answered 200, expected 402/);
    // The steps before it ran and passed; none after it ran.
    expect(output).toContain('ok   [7/10] read a free episode');
    expect(output).not.toContain('[9/10]');
  });

  it('fails the payment step when a retried payment is charged again', async () => {
    // Ignores the Idempotency-Key: each POST gets a fresh one, so the retry is a second payment.
    const url = await proxy((req) => {
      if (req.method === 'POST' && req.url === '/api/payment/payments') req.headers['idempotency-key'] = randomUUID();
      return false;
    });
    const result = await runSmoke({ url, waitSeconds: 10, log: () => undefined });
    expect(result.ok).toBe(false);
    expect(result.failedStep).toBe('pay for it with an Idempotency-Key, twice');
    expect(result.steps.at(-1)?.error).toMatch(/the same key made a second payment/);
  });

  it('keeps the base URL\'s path: a gateway behind a prefix', async () => {
    // Serves the portal under /edge only, as an ingress with a path prefix would.
    const url = await proxy((req, res) => {
      if (req.url?.startsWith('/edge/')) {
        req.url = req.url.slice('/edge'.length);
        return false;
      }
      res.writeHead(404).end();
      return true;
    });
    const result = await runSmoke({ url: `${url}/edge/`, waitSeconds: 10, log: () => undefined });
    expect(result.ok, JSON.stringify(result.steps.at(-1))).toBe(true);
  });

  it('waits for a stack that is still starting, within --wait', async () => {
    const readyAt = Date.now() + 2000;
    const url = await proxy((req, res) => {
      if (Date.now() >= readyAt) return false;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"starting"}');
      return true;
    });
    const result = await runSmoke({ url, waitSeconds: 20, log: () => undefined });
    expect(result.ok, JSON.stringify(result.steps)).toBe(true);
    expect(result.steps[0]?.ms).toBeGreaterThanOrEqual(1000);
  });

  it('gives up on a gateway that never answers once --wait has passed, naming the first step', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const lines: string[] = [];
    const started = Date.now();
    const code = await runSmokeCommand(['--url', `http://127.0.0.1:${port}`, '--wait', '2'], (line) => lines.push(line));
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines.join('\n')).toMatch(/FAIL \[1\/10\] the gateway is ready[\s\S]*GET \/health\/ready: ECONNREFUSED \(still so after 2\.\d s\)/);
    expect(lines.join('\n')).toContain("smoke test failed at step 'the gateway is ready'");
  });
});
