export interface RateLimit {
  /** Requests a client may make per second, on average. */
  readonly perSecond: number;
  /** Requests a client may make at once, after being quiet. */
  readonly burst: number;
  /**
   * Clients tracked at once, at the most (about 100 bytes each): past it the
   * longest-tracked one is forgotten (its next request starts a full bucket).
   * The sweep below forgets quiet clients; this bounds a flood of new ones.
   */
  readonly maxClients?: number;
}

const MAX_CLIENTS = 100_000;

/**
 * A token bucket per client, in this process's memory. Each gateway replica
 * limits on its own, so with N replicas a client gets up to N times the rate:
 * the price of needing no shared store in the request path.
 */
export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  #sweeper: NodeJS.Timeout;

  constructor(private readonly limit: RateLimit) {
    // A full bucket is the same as none: forget clients that went quiet, so memory stays bounded.
    const idleMs = Math.ceil((limit.burst / limit.perSecond) * 1000);
    this.#sweeper = setInterval(() => this.#sweep(idleMs), Math.max(10_000, idleMs));
    this.#sweeper.unref();
  }

  /** 0 when `client` may go ahead now (and spends a token), otherwise the milliseconds until it may. */
  take(client: string, now = Date.now()): number {
    const { perSecond, burst } = this.limit;
    let bucket = this.#buckets.get(client);
    if (!bucket) {
      if (this.#buckets.size >= (this.limit.maxClients ?? MAX_CLIENTS)) this.#buckets.delete(this.#buckets.keys().next().value as string);
      bucket = { tokens: burst, at: now };
      this.#buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond);
  }

  #sweep(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const [client, bucket] of this.#buckets) if (bucket.at < before) this.#buckets.delete(client);
  }

  /** How many clients are tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }
}
