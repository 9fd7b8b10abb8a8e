import { describe, expect, it } from 'vitest';
import { hourBucket, utcDay, windowStart } from './analytics.time.js';

describe('time buckets', () => {
  it('puts a time in the UTC hour it falls in', () => {
    expect(hourBucket(new Date('2026-03-01T10:59:59.999Z')).toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(hourBucket(new Date('2026-03-01T11:00:00.000Z')).toISOString()).toBe('2026-03-01T11:00:00.000Z');
    // An offset of half an hour still lands on a UTC hour.
    expect(hourBucket(new Date('2026-03-01T16:10:00+05:30')).toISOString()).toBe('2026-03-01T10:00:00.000Z');
  });

  it('names the UTC day, whatever the offset a time was written with', () => {
    expect(utcDay(new Date('2026-03-01T23:59:59Z'))).toBe('2026-03-01');
    expect(utcDay(new Date('2026-03-02T01:00:00+02:00'))).toBe('2026-03-01');
  });

  it('starts a window of n hours n-1 hours before the current hour', () => {
    const now = new Date('2026-03-02T12:30:00Z');
    expect(windowStart(now, 1).toISOString()).toBe('2026-03-02T12:00:00.000Z');
    expect(windowStart(now, 24).toISOString()).toBe('2026-03-01T13:00:00.000Z');
    expect(windowStart(now, 720).toISOString()).toBe('2026-01-31T13:00:00.000Z');
  });
});
