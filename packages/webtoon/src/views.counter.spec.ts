import { describe, expect, it } from 'vitest';
import { ViewCounter } from './views.counter.js';

const E1 = '11111111-1111-4111-8111-000000000001';
const E2 = '11111111-1111-4111-8111-000000000002';
const E3 = '22222222-2222-4222-8222-000000000001';
const S1 = '11111111-1111-4111-8111-111111111111';
const S2 = '22222222-2222-4222-8222-222222222222';

/** A clock the test moves by hand. */
function clock(start = Date.parse('2025-03-01T12:00:00.000Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const plain = (window: ReturnType<ViewCounter['take']>) =>
  window && { start: window.start.toISOString(), end: window.end.toISOString(), counts: Object.fromEntries(window.counts) };

describe('ViewCounter', () => {
  it('sums reads per episode over a window and starts a new one on take', () => {
    const time = clock();
    const counter = new ViewCounter(time.now);
    counter.record(E1, S1);
    counter.record(E1, S1);
    counter.record(E2, S1);
    counter.record(E3, S2);
    time.advance(1_000);
    expect(counter.pending).toBe(4);
    expect(plain(counter.take())).toEqual({
      start: '2025-03-01T12:00:00.000Z',
      end: '2025-03-01T12:00:01.000Z',
      counts: { [E1]: { seriesId: S1, views: 2 }, [E2]: { seriesId: S1, views: 1 }, [E3]: { seriesId: S2, views: 1 } },
    });
    expect(counter.pending).toBe(0);

    counter.record(E2, S1);
    time.advance(1_000);
    expect(plain(counter.take())).toEqual({
      start: '2025-03-01T12:00:01.000Z',
      end: '2025-03-01T12:00:02.000Z',
      counts: { [E2]: { seriesId: S1, views: 1 } },
    });
  });

  it('has nothing to take when nothing was read, and still moves the window on', () => {
    const time = clock();
    const counter = new ViewCounter(time.now);
    time.advance(5_000);
    expect(counter.take()).toBeUndefined();
    counter.record(E1, S1);
    time.advance(1_000);
    expect(plain(counter.take())?.start).toBe('2025-03-01T12:00:05.000Z');
  });

  it('loses nothing when a window is put back: it merges into the next, which starts where it did', () => {
    const time = clock();
    const counter = new ViewCounter(time.now);
    counter.record(E1, S1);
    counter.record(E1, S1);
    time.advance(1_000);
    const failed = counter.take();
    expect(failed).toBeDefined();
    // Reads go on while the write fails.
    counter.record(E1, S1);
    counter.record(E3, S2);
    counter.restore(failed!);
    expect(counter.pending).toBe(4);
    time.advance(1_000);
    expect(plain(counter.take())).toEqual({
      start: '2025-03-01T12:00:00.000Z',
      end: '2025-03-01T12:00:02.000Z',
      counts: { [E1]: { seriesId: S1, views: 3 }, [E3]: { seriesId: S2, views: 1 } },
    });
  });

  it('does not share state between a taken window and later reads', () => {
    const counter = new ViewCounter();
    counter.record(E1, S1);
    const window = counter.take()!;
    counter.record(E1, S1);
    expect(window.counts.get(E1)?.views).toBe(1);
  });
});
