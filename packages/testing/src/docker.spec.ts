import { describe, expect, it } from 'vitest';
import { requireDocker, waitUntil } from './docker.js';

describe('requireDocker', () => {
  it('fails with what to install when no engine answers, instead of skipping', async () => {
    const noEngine = () => Promise.reject(new Error('Could not find a working container runtime strategy'));

    const failure = requireDocker('a Kafka broker', 'KAFKA_BROKERS', noEngine);

    await expect(failure).rejects.toThrow(
      /needs a Kafka broker: KAFKA_BROKERS is not set and no Docker engine answered \(Could not find a working container runtime strategy\)/,
    );
    await expect(failure).rejects.toThrow(/install Docker Engine and start it.*\n.*or set KAFKA_BROKERS/s);
  });

  it('passes when an engine answers', async () => {
    await expect(requireDocker('a Kafka broker', 'KAFKA_BROKERS', () => Promise.resolve({}))).resolves.toBeUndefined();
  });
});

describe('waitUntil', () => {
  it('returns once the probe succeeds', async () => {
    let calls = 0;
    const value = await waitUntil('thing', 5_000, async () => {
      calls += 1;
      if (calls < 3) throw new Error('not yet');
      return 'ready';
    });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('gives up at its bound with the last failure as the cause', async () => {
    const failure = waitUntil('never', 300, () => Promise.reject(new Error('still down')));
    await expect(failure).rejects.toThrow('never: not ready within 300 ms');
    await expect(failure.catch((e: Error) => (e.cause as Error).message)).resolves.toBe('still down');
  });
});
