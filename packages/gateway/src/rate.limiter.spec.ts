import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiter } from './rate.limiter.js';

describe('RateLimiter', () => {
  const limiters: RateLimiter[] = [];
  const limiter = (perSecond: number, burst: number, maxClients?: number) => {
    const made = new RateLimiter({ perSecond, burst, maxClients });
    limiters.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of limiters.splice(0)) made.close();
  });

  it('lets a burst through, then says how long to wait, per client', () => {
    const limit = limiter(1, 2);
    expect([limit.take('a', 0), limit.take('a', 0), limit.take('a', 0)]).toEqual([0, 0, 1000]);
    expect(limit.take('b', 0)).toBe(0);
    expect(limit.take('a', 1000)).toBe(0);
  });

  it('tracks at most maxClients at once: a flood of new clients forgets the longest-tracked', () => {
    const limit = limiter(1, 1, 3);
    for (const client of ['a', 'b', 'c']) expect(limit.take(client, 0)).toBe(0);
    expect(limit.take('a', 0)).toBe(1000);
    for (let i = 0; i < 1000; i += 1) limit.take(`flood-${i}`, 0);
    expect(limit.size).toBe(3);
    // 'a' was forgotten by the flood: a full bucket again.
    expect(limit.take('a', 0)).toBe(0);
  });
});
