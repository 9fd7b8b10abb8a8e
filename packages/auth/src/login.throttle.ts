export interface ThrottleLimits {
  /** Failed logins for one account within `windowMs` that lock it. */
  readonly accountFailures: number;
  /** Failed logins from one client address within `windowMs` that lock it, whatever the accounts. */
  readonly addressFailures: number;
  readonly windowMs: number;
  /** How long a lock lasts; then the account (or address) starts a new window. */
  readonly lockMs: number;
}

interface Tally {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/** Keys tracked per kind at most: a spray of made-up emails must not grow memory without end. */
const MAX_TRACKED = 100_000;

/**
 * Failed logins per account and per client address, in fixed windows; past the
 * limit the account (or address) is locked for `lockMs`, and while it is, no
 * password is checked at all, the right one included.
 *
 * In memory, per process: nothing to set up, and a login makes no extra query.
 * With several replicas each counts on its own, so a guesser spread over N of
 * them by round-robin gets up to N times the limit before every replica has
 * locked the account, and a restart forgets the counts. The scrypt cost per
 * guess stays, and the lock still holds a guesser to a handful of tries per
 * window per replica; a shared store (the database, Redis) is the step up.
 */
export class LoginThrottle {
  private readonly accounts = new Map<string, Tally>();
  private readonly addresses = new Map<string, Tally>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whole seconds until a login for `account` from `address` may be tried; 0 when it may now. */
  retryAfter(account: string, address: string): number {
    const until = Math.max(this.lockedUntil(this.accounts, account), this.lockedUntil(this.addresses, address));
    return until === 0 ? 0 : Math.ceil((until - this.now()) / 1000);
  }

  failed(account: string, address: string): void {
    this.count(this.accounts, account, this.limits.accountFailures);
    this.count(this.addresses, address, this.limits.addressFailures);
  }

  /** The account's failures are forgiven; the address's are not (it may be guessing at many accounts). */
  succeeded(account: string): void {
    this.accounts.delete(account);
  }

  private lockedUntil(tallies: Map<string, Tally>, key: string): number {
    const tally = tallies.get(key);
    if (tally === undefined) return 0;
    const now = this.now();
    if (tally.lockedUntil > now) return tally.lockedUntil;
    if (now - tally.windowStart >= this.limits.windowMs) tallies.delete(key);
    return 0;
  }

  private count(tallies: Map<string, Tally>, key: string, limit: number): void {
    const now = this.now();
    let tally = tallies.get(key);
    if (tally === undefined || now - tally.windowStart >= this.limits.windowMs) tally = { failures: 0, windowStart: now, lockedUntil: 0 };
    tally.failures += 1;
    if (tally.failures >= limit) {
      tally.lockedUntil = now + this.limits.lockMs;
      // After the lock, a new window with a clean count.
      tally.failures = 0;
      tally.windowStart = tally.lockedUntil;
    }
    // Re-inserted so the map's order is by last failure, and the stalest goes first when it is full.
    tallies.delete(key);
    if (tallies.size >= MAX_TRACKED) tallies.delete(tallies.keys().next().value as string);
    tallies.set(key, tally);
  }
}
