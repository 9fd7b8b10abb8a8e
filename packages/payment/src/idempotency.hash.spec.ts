import { describe, expect, it } from 'vitest';
import { canonicalJson, requestHash } from './idempotency.hash.js';

const body = {
  item: { type: 'episode', id: '0b5d2c1e-4f3a-4b2c-9d8e-7f6a5b4c3d2e' },
  amountCents: 300,
  currency: 'EUR',
  paymentMethod: { token: 'tok_ok' },
};

describe('requestHash', () => {
  it('is the same whatever the order of keys, at every depth', () => {
    const reordered = {
      paymentMethod: { token: 'tok_ok' },
      currency: 'EUR',
      amountCents: 300,
      item: { id: '0b5d2c1e-4f3a-4b2c-9d8e-7f6a5b4c3d2e', type: 'episode' },
    };
    expect(requestHash({ operation: 'create', body: reordered })).toBe(requestHash({ operation: 'create', body }));
    expect(requestHash({ body, operation: 'create' })).toBe(requestHash({ operation: 'create', body }));
  });

  it('is a stable sha-256 hex digest', () => {
    const hash = requestHash({ operation: 'create', body });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash({ operation: 'create', body: structuredClone(body) })).toBe(hash);
  });

  it('differs when any value, the operation, or the order of an array differs', () => {
    const base = requestHash({ operation: 'create', body });
    expect(requestHash({ operation: 'create', body: { ...body, amountCents: 301 } })).not.toBe(base);
    expect(requestHash({ operation: 'create', body: { ...body, amountCents: '300' } })).not.toBe(base);
    expect(requestHash({ operation: 'create', body: { ...body, paymentMethod: { token: 'tok_decline' } } })).not.toBe(base);
    expect(requestHash({ operation: 'refund', body })).not.toBe(base);
    expect(requestHash({ operation: 'x', list: [1, 2] })).not.toBe(requestHash({ operation: 'x', list: [2, 1] }));
  });

  it('ignores undefined properties, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: 'é' })).toBe('{"a":"é","b":[1,{"c":null,"d":"x"}]}');
  });
});
