/**
 * Latencies in an HDR-style histogram: exact below 2,048 µs, then 1,024
 * buckets per power of two, so any percentile is within 0.1 % of the true
 * value whatever the run's length, in a few kilobytes and O(1) per record.
 */
const LINEAR = 2_048;
const SUB = 1_024;
/** 2^31 µs is 35 minutes: longer is clamped (requests time out long before). */
const MAX_US = 2 ** 31 - 1;

function indexOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = 31 - Math.clz32(us) - 10;
  return LINEAR + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** The highest value a bucket holds, as HDR histograms report it: never below the true value. */
function highestOf(index: number): number {
  if (index < LINEAR) return index;
  const k = index - LINEAR;
  const shift = Math.floor(k / SUB) + 1;
  const sub = (k % SUB) + SUB;
  return (sub + 1) * 2 ** shift - 1;
}

export class Histogram {
  private counts: number[] = [];
  private total = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  /** Records one latency in milliseconds (kept at microsecond resolution). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a finite number >= 0, got ${ms}`);
    const us = Math.min(MAX_US, Math.round(ms * 1_000));
    const i = indexOf(us);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total += 1;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  get count(): number {
    return this.total;
  }

  /** Mean in milliseconds; 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total / 1_000;
  }

  /** Largest recorded value in milliseconds (exact); 0 when empty. */
  get maximum(): number {
    return this.max / 1_000;
  }

  /**
   * The value at percentile `p` (0 < p <= 100), in milliseconds: the smallest
   * recorded value with at least p % of the values at or below it (nearest
   * rank), within 0.1 %. 0 when empty.
   */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      // Clamped to the exact extremes, so p100 is the true maximum.
      if (seen >= rank) return Math.min(Math.max(highestOf(i), this.min), this.max) / 1_000;
    }
    return this.max / 1_000;
  }

  /** Adds another histogram's values into this one. */
  add(other: Histogram): this {
    other.counts.forEach((n, i) => {
      if (n) this.counts[i] = (this.counts[i] ?? 0) + n;
    });
    this.total += other.total;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  static merge(histograms: Iterable<Histogram>): Histogram {
    const merged = new Histogram();
    for (const h of histograms) merged.add(h);
    return merged;
  }
}
