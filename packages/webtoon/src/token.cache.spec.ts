import { describe, expect, it } from 'vitest';
import type { AuthenticatedUser, TokenVerifier } from '@portal/http';
import { textBytes } from './bounded.cache.js';
import { TokenCache } from './token.cache.js';

const USER: AuthenticatedUser = { userId: '5a0c6e9e-1b2d-4c3e-8f4a-9b8c7d6e5f40', email: 'reader@example.com' };
const T0 = 1_750_000_000_000;

/** An unsigned token with this expiry: the fake verifier below decides what is valid. */
const token = (expSeconds: number, salt = 'a') =>
  ['eyJhbGciOiJFZERTQSJ9', Buffer.from(JSON.stringify({ sub: USER.userId, exp: expSeconds, salt })).toString('base64url'), 'sig'].join('.');

function setup(options: { ttlMs?: number; maxBytes?: number } = {}) {
  let now = T0;
  const calls: string[] = [];
  const valid = new Set<string>();
  const inner: TokenVerifier = {
    async verify(t) {
      calls.push(t);
      if (!valid.has(t)) throw new Error('invalid');
      return USER;
    },
  };
  const cache = new TokenCache(inner, options.ttlMs ?? 30_000, options.maxBytes ?? 100_000, () => now);
  return { cache, calls, valid, advance: (ms: number) => void (now += ms) };
}

describe('TokenCache', () => {
  it('verifies a token once and then answers from memory, synchronously', async () => {
    const { cache, calls, valid } = setup();
    const t = token(T0 / 1000 + 3600);
    valid.add(t);
    expect(cache.cached(t)).toBeUndefined();
    expect(await cache.verify(t)).toEqual(USER);
    expect(await cache.verify(t)).toEqual(USER);
    expect(cache.cached(t)).toEqual(USER);
    expect(calls).toHaveLength(1);
  });

  it('never keeps a failure', async () => {
    const { cache, calls } = setup();
    const t = token(T0 / 1000 + 3600);
    await expect(cache.verify(t)).rejects.toThrow('invalid');
    await expect(cache.verify(t)).rejects.toThrow('invalid');
    expect(cache.cached(t)).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it('asks again after the ttl', async () => {
    const { cache, calls, valid, advance } = setup({ ttlMs: 1_000 });
    const t = token(T0 / 1000 + 3600);
    valid.add(t);
    await cache.verify(t);
    advance(999);
    expect(cache.cached(t)).toEqual(USER);
    advance(1);
    expect(cache.cached(t)).toBeUndefined();
    await cache.verify(t);
    expect(calls).toHaveLength(2);
  });

  it('does not trust a token past its own expiry, however long the ttl', async () => {
    const { cache, valid, advance } = setup({ ttlMs: 60_000 });
    const t = token(T0 / 1000 + 5);
    valid.add(t);
    await cache.verify(t);
    advance(4_999);
    expect(cache.cached(t)).toEqual(USER);
    advance(1);
    expect(cache.cached(t)).toBeUndefined();
  });

  it('holds tokens up to a budget of bytes, dropping the oldest first', async () => {
    const tokens = ['a', 'b', 'c'].map((salt) => token(T0 / 1000 + 3600, salt));
    // Room for two of them (they weigh the same), not three.
    const { cache, valid } = setup({ maxBytes: 2 * 2 * textBytes(tokens[0]!) });
    for (const t of tokens) {
      valid.add(t);
      await cache.verify(t);
    }
    expect(tokens.map((t) => cache.cached(t) !== undefined)).toEqual([false, true, true]);
  });
});
