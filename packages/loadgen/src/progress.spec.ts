import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Progress } from './progress.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) > 0 } as unknown as NodeJS.WriteStream & { chunks: string[] };
}

describe('progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const run = (out: ReturnType<typeof stream>) => {
    const progress = new Progress(out, 'test', { kind: 'steady', seconds: 2, rate: 3 });
    progress.start();
    progress.record(1, true);
    progress.record(2, true);
    progress.record(30, false);
    progress.tick(1, 0);
    vi.advanceTimersByTime(1_000);
    progress.record(4, true);
    progress.tick(0, 5);
    vi.advanceTimersByTime(1_000);
    progress.stop();
    return out.chunks.join('');
  };

  it('writes plain lines, one a second, where the output is not a terminal', () => {
    const text = run(stream(false));
    expect(text).not.toContain('\r');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('[test] steady 3/s for 2 s');
    expect(lines[1]).toMatch(/^\[test\] \d\/2 s {2}3 req\/s {2}p50 2\.0 ms {2}p99 30\.0 ms {2}errors 1\/s \(1 in all\) {2}in flight 1$/);
    expect(lines[2]).toMatch(/1 req\/s .* errors 0\/s \(1 in all\) {2}in flight 0 {2}behind target: 5 not sent$/);
    expect(lines[3]).toMatch(/^\[test\] done: 4 requests in [\d.]+ s, 1 errors$/);
    expect(lines).toHaveLength(4);
  });

  it('rewrites one line in place on a terminal, and ends it before the summary', () => {
    const text = run(stream(true));
    expect(text.split('\r\u001b[2K')).toHaveLength(3);
    expect(text).toMatch(/in flight 0 {2}behind target: 5 not sent\n\[test\] done: 4 requests/);
  });
});
