import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@portal/observability';
import { isUnavailable } from '@portal/db';
import { StartingServer, untilReachable } from './startup.js';

const logger = createLogger('startup-spec', { level: 'error' });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('untilReachable', () => {
  it('retries while the dependency is not there, and returns once it answers', async () => {
    let calls = 0;
    const waited: string[] = [];
    const result = await untilReachable('PostgreSQL', { logger, boundMs: 10_000, transient: isUnavailable, onWaiting: (w, r) => waited.push(`${w}: ${r}`) }, async () => {
      calls++;
      if (calls < 3) throw refused();
      return 'up';
    });
    expect(result).toBe('up');
    expect(calls).toBe(3);
    expect(waited).toEqual(['PostgreSQL: connect ECONNREFUSED 127.0.0.1:5432', 'PostgreSQL: connect ECONNREFUSED 127.0.0.1:5432']);
  });

  it('fails at once on an error that waiting cannot fix (a wrong password)', async () => {
    let calls = 0;
    const wrong = Object.assign(new Error('password authentication failed for user "webtoon"'), { code: '28P01' });
    await expect(
      untilReachable('PostgreSQL', { logger, boundMs: 10_000, transient: isUnavailable }, async () => {
        calls++;
        throw wrong;
      }),
    ).rejects.toBe(wrong);
    expect(calls).toBe(1);
  });

  it('gives up past its bound, naming what it waited for and the setting', async () => {
    const started = Date.now();
    await expect(untilReachable('Kafka (kafka:9092)', { logger, boundMs: 1_200 }, () => Promise.reject(refused()))).rejects.toThrow(
      /^Kafka \(kafka:9092\) did not answer within 1 s \(STARTUP_WAIT_SECONDS\): connect ECONNREFUSED/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

});

describe('StartingServer', () => {
  let server: StartingServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });

  it('says live, not ready (naming what it waits for), and frees the port when closed', async () => {
    const port = await freePort();
    server = await StartingServer.listen(port, '127.0.0.1');
    server.set('PostgreSQL (webtoon database at postgres:5432)', 'connect ECONNREFUSED');
    const live = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'starting', checks: { 'PostgreSQL (webtoon database at postgres:5432)': 'waiting: connect ECONNREFUSED' } });
    const other = await fetch(`http://127.0.0.1:${port}/api/webtoon/series`);
    expect(other.status).toBe(503);
    expect(other.headers.get('retry-after')).toBe('2');
    await server.close();
    server = undefined;
    // The real server can take the port now.
    await new Promise<void>((resolve, reject) => {
      const next = createServer().once('error', reject).listen(port, '127.0.0.1', () => next.close(() => resolve()));
    });
  });
});
