import { Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwksCache, jwtVerify } from 'jose';
import type { ExportedJWKSCache, JWTVerifyGetKey } from 'jose';
import { unauthorized, unavailable } from './problem.js';

/** What the auth service puts in a token, and what every verifier insists on. */
export const TOKEN = { issuer: 'portal-auth', audience: 'portal', algorithm: 'EdDSA' } as const;

export interface AuthenticatedUser {
  readonly userId: string;
  readonly email: string;
}

export interface TokenVerifier {
  /** The user a token speaks for; rejects with a 401 problem that says what is wrong. */
  verify(token: string): Promise<AuthenticatedUser>;
}

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/** Verifies against a key set: the auth service's keys, local or fetched. */
export function keySetVerifier(keys: JWTVerifyGetKey): TokenVerifier {
  return {
    async verify(token) {
      try {
        // Only the one algorithm: 'none' and HMAC-with-the-public-key tricks fail here.
        const { payload } = await jwtVerify(token, keys, {
          issuer: TOKEN.issuer,
          audience: TOKEN.audience,
          algorithms: [TOKEN.algorithm],
          requiredClaims: ['sub', 'exp'],
        });
        if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') throw unauthorized('token: missing sub or email');
        return { userId: payload.sub, email: payload.email };
      } catch (error) {
        // No keys to check against says nothing about the token: the client
        // should retry, not sign in again.
        if (keysUnavailable(error)) throw unavailable(`the auth service's signing keys cannot be fetched now (${(error as Error).message}); try again`);
        throw unauthorized(`token: ${reasonOf(error)}`);
      }
    },
  };
}

export interface JwksOptions {
  /**
   * How long after its last good fetch the key set still verifies tokens while
   * a new one cannot be fetched; past that, 503. DEFAULT_JWKS_STALE_MAX_MS unless set.
   */
  readonly staleMaxMs?: number;
}

export const DEFAULT_JWKS_STALE_MAX_MS = 3_600_000;
// Fetched again after this long when it can be (keys rotate; a new kid is fetched at once).
const JWKS_MAX_AGE_MS = 60_000;
// After a failed fetch, the last good keys answer alone this long: a dead or
// slow auth service then costs one fetch attempt per interval, not one per request.
const JWKS_RETRY_AFTER_MS = 5_000;

/**
 * Verifies against the auth service's published JWKS, fetched and cached.
 * While it cannot be fetched, the last good key set goes on verifying for
 * `staleMaxMs`: auth down for a while must not take every signed-in request
 * in the portal with it.
 */
export function jwksVerifier(jwksUrl: string, options: JwksOptions = {}): TokenVerifier {
  return keySetVerifier(lastGoodKeySet(new URL(jwksUrl), options.staleMaxMs ?? DEFAULT_JWKS_STALE_MAX_MS));
}

function lastGoodKeySet(url: URL, staleMaxMs: number): JWTVerifyGetKey {
  // jose writes every key set it fetches, and when, into this object.
  const cache: Partial<ExportedJWKSCache> = {};
  const remote = createRemoteJWKSet(url, { cooldownDuration: 5_000, cacheMaxAge: JWKS_MAX_AGE_MS, [jwksCache]: cache as Record<string, never> });
  let failure: { at: number; error: unknown } | undefined;
  let stale: { uat: number; keys: JWTVerifyGetKey } | undefined;

  const fromLastGood: JWTVerifyGetKey = async (header, token) => {
    const error = failure?.error;
    const { jwks, uat } = cache;
    if (!jwks || uat === undefined || Date.now() - uat > staleMaxMs) throw error;
    if (stale?.uat !== uat) stale = { uat, keys: createLocalJWKSet(jwks) };
    try {
      return await stale.keys(header, token);
    } catch (missing) {
      // A key the last good set lacks may be a new one: that says nothing against the token.
      throw missing instanceof errors.JWKSNoMatchingKey ? error : missing;
    }
  };

  return async (header, token) => {
    if (failure && Date.now() - failure.at < JWKS_RETRY_AFTER_MS) return fromLastGood(header, token);
    try {
      const key = await remote(header, token);
      failure = undefined;
      return key;
    } catch (error) {
      if (!keysUnavailable(error)) throw error;
      failure = { at: Date.now(), error };
      return fromLastGood(header, token);
    }
  };
}

/** The key set could not be fetched: unreachable, too slow, or not answering with a key set. */
function keysUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout) return true;
  // fetch() rejects with a bare TypeError when the address cannot be reached.
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  // jose's remote key set: a non-200 answer or a body that is not JSON.
  return error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(error.message);
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim '${error.claim}' ${error.reason === 'check_failed' ? 'is wrong' : 'is missing'}`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed with a key the auth service does not publish';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed';
  if (error instanceof Error && 'status' in error) return (error as { detail?: string }).detail ?? error.message;
  return error instanceof Error ? error.message : 'invalid';
}

interface WithUser {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthenticatedUser;
}

/** Lets a request through only with a valid bearer token; the user is then `@CurrentUser()`. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length === 0) throw unauthorized('header.authorization: sign in and send "Authorization: Bearer <token>"');
    const match = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/.exec(header);
    if (!match?.[1]) throw unauthorized('header.authorization: expected "Bearer <token>"');
    request.user = await this.verifier.verify(match[1]);
    return true;
  }
}

export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<WithUser>().user;
  if (!user) throw new Error('@CurrentUser() needs @UseGuards(AuthGuard) on the route');
  return user;
});
