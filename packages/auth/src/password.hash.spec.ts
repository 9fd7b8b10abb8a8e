import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.hash.js';
import type { ScryptParams } from './password.hash.js';

// Cheap parameters: these tests are about the format and the comparison, not the cost.
const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1, keyLength: 32 };

describe('password hashes', () => {
  it('verifies the password they were made from and nothing else', async () => {
    const stored = await hashPassword('correct horse battery staple', FAST);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts each hash, so equal passwords are stored differently', async () => {
    const a = await hashPassword('same password', FAST);
    const b = await hashPassword('same password', FAST);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    expect(Buffer.from(a.split('$')[4] as string, 'base64url')).toHaveLength(16);
  });

  it('keeps its parameters with the hash, so a hash made with other parameters still verifies', async () => {
    const stored = await hashPassword('password1', FAST);
    expect(stored.split('$').slice(0, 4)).toEqual(['scrypt', '1024', '8', '1']);
    expect(await verifyPassword('password1', stored)).toBe(true);
  });

  it('treats the same text in another Unicode form as the same password', async () => {
    const composed = 'caf\u00e9-password';
    const decomposed = 'cafe\u0301-password';
    expect(await verifyPassword(decomposed, await hashPassword(composed, FAST))).toBe(true);
  });

  it('refuses malformed records instead of throwing', async () => {
    for (const stored of ['', 'plain', 'bcrypt$1$2$3$abc$def', 'scrypt$x$8$1$abc$def', 'scrypt$1000$8$1$abc$def', 'scrypt$1024$8$1$$def', 'scrypt$1024$8$1$abc$']) {
      expect(await verifyPassword('anything', stored)).toBe(false);
    }
  });
});
