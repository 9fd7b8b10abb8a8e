import type { AuthenticatedUser, TokenVerifier } from '@portal/http';
import { BoundedCache, textBytes } from './bounded.cache.js';

interface Verified {
  readonly user: AuthenticatedUser;
  readonly until: number;
}

/**
 * Remembers tokens that verified, so a reader who sends the same token on
 * every read pays for the signature check once, not per request: on the read
 * path that check costs more than everything else together. A token is kept
 * for at most `ttlMs` and never past its own expiry; failures are never kept.
 */
export class TokenCache implements TokenVerifier {
  private readonly verified: BoundedCache<string, Verified>;

  constructor(
    private readonly inner: TokenVerifier,
    private readonly ttlMs: number,
    maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    // The user's id and email are a token's claims, so the token outweighs them.
    this.verified = new BoundedCache(maxBytes, (token) => 2 * textBytes(token));
  }

  /** The user of a token that verified recently; synchronous, for the hot path. */
  cached(token: string): AuthenticatedUser | undefined {
    const hit = this.verified.get(token);
    if (hit === undefined) return undefined;
    if (hit.until > this.now()) return hit.user;
    this.verified.delete(token);
    return undefined;
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    const hit = this.cached(token);
    if (hit !== undefined) return hit;
    const user = await this.inner.verify(token);
    const expires = expiryOf(token);
    if (this.ttlMs > 0 && expires !== undefined) this.verified.set(token, { user, until: Math.min(this.now() + this.ttlMs, expires) });
    return user;
  }
}

/** The `exp` of a token that has just verified, in ms; undefined if it has none. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
