/** The DomainContext the host gives this module. */
export const WEBTOON_CONTEXT = Symbol('WEBTOON_CONTEXT');
/** The module's WebtoonOptions. */
export const WEBTOON_OPTIONS = Symbol('WEBTOON_OPTIONS');

export interface WebtoonOptions {
  /** How often counted views are written; 0 turns the timer off (tests call flushViews()). */
  readonly viewFlushIntervalMs: number;
  /** Bytes of episodes (their serialised bodies) kept in memory for the read path; 0 keeps none, and every read queries the database. */
  readonly episodeCacheBytes: number;
  /** How long a found entitlement is trusted without asking the database again; 0 asks every time. */
  readonly grantCacheMs: number;
  /** How long a token that verified is trusted without checking its signature again (never past its expiry); 0 checks every time. */
  readonly tokenCacheMs: number;
}

/** The read path with every cache off (WEBTOON_CACHE=off). */
export const CACHES_OFF = { episodeCacheBytes: 0, grantCacheMs: 0, tokenCacheMs: 0 } as const satisfies Partial<WebtoonOptions>;

export const DEFAULT_OPTIONS: WebtoonOptions = {
  viewFlushIntervalMs: 1_000,
  episodeCacheBytes: 32 * 1024 * 1024,
  grantCacheMs: 5_000,
  tokenCacheMs: 30_000,
};
