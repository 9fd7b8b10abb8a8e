/**
 * A map that holds values up to a budget of `maxBytes`, as `sizeOf` weighs
 * them, dropping the oldest insertion first. Bounded by bytes, not by count:
 * one long episode weighs as much as thousands of short ones, and a count says
 * nothing about the memory it holds. Reads do not reorder (a plain `Map.get`),
 * so the hot path pays for no bookkeeping; what is read often is simply loaded
 * again after its eviction. A value heavier than the whole budget is not kept.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { readonly value: V; readonly bytes: number }>();
  private held = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (key: K, value: V) => number,
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** What the entries weigh together; never more than `maxBytes`. */
  get bytes(): number {
    return this.held;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V): void {
    // A replaced key counts as new: it moves to the young end.
    this.delete(key);
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return;
    for (const [oldest, entry] of this.entries) {
      if (this.held + bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes;
    }
    this.entries.set(key, { value, bytes });
    this.held += bytes;
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.held -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}

/**
 * What strings held in a cache entry weigh, on the high side: two bytes per
 * UTF-16 code unit (V8 uses one for Latin-1 strings) and a flat allowance for
 * the entry, its key and its object.
 */
export function textBytes(...texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + 2 * text.length, 128);
}
