import { describe, expect, it } from 'vitest';
import { BoundedCache, textBytes } from './bounded.cache.js';

/** Values weigh what their number says, keys nothing. */
const weighed = (maxBytes: number) => new BoundedCache<string, number>(maxBytes, (_, bytes) => bytes);

describe('BoundedCache', () => {
  it('keeps at most maxBytes, dropping the oldest insertions first until the new one fits', () => {
    const cache = weighed(100);
    cache.set('a', 40);
    cache.set('b', 30);
    cache.set('c', 30);
    expect(cache.bytes).toBe(100);
    cache.set('d', 50);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('c'), cache.get('d')]).toEqual([30, 50]);
    expect(cache.bytes).toBe(80);
  });

  it('evicts by weight, not by count: one heavy value pushes out many light ones', () => {
    const cache = weighed(1_000);
    for (let i = 0; i < 100; i += 1) cache.set(`light ${i}`, 10);
    expect(cache.size).toBe(100);
    cache.set('heavy', 900);
    expect(cache.size).toBe(11);
    expect(cache.bytes).toBe(1_000);
    expect(cache.get('light 90')).toBe(10);
    expect(cache.get('light 89')).toBeUndefined();
  });

  it('does not keep a value heavier than the whole budget, and keeps the rest', () => {
    const cache = weighed(100);
    cache.set('a', 60);
    cache.set('huge', 101);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBe(60);
    expect(cache.bytes).toBe(60);
  });

  it('does not reorder on reads: what is oldest stays next to go', () => {
    const cache = weighed(2);
    cache.set('a', 1);
    cache.set('b', 1);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(1);
  });

  it('replaces a key without evicting another, re-weighs it, and makes it the youngest', () => {
    const cache = weighed(3);
    cache.set('a', 1);
    cache.set('b', 1);
    cache.set('a', 2);
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(3);
    cache.set('c', 1);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(2);
    expect(cache.get('c')).toBe(1);
  });

  it('deletes and clears, giving the bytes back', () => {
    const cache = weighed(2);
    cache.set('a', 1);
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    expect(cache.bytes).toBe(0);
    cache.set('b', 2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('refuses a budget that cannot hold anything', () => {
    expect(() => weighed(0)).toThrow(RangeError);
    expect(() => weighed(1.5)).toThrow(RangeError);
  });
});

describe('textBytes', () => {
  it('counts two bytes a code unit on top of a flat allowance per entry', () => {
    expect(textBytes()).toBe(128);
    expect(textBytes('abc', '🎉')).toBe(128 + 6 + 4);
  });
});
