import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { SignJWT, importJWK } from 'jose';
import type { CryptoKey } from 'jose';
import type { DomainContext } from '@portal/host';
import { TOKEN } from '@portal/http';
import { AUTH_CONTEXT, TOKEN_TTL_SECONDS } from './auth.tokens.js';
import { rotateSigningKeys } from './signing.keys.js';
import type { StoredSigningKey } from './signing.keys.js';

interface Signer {
  readonly kid: string;
  readonly key: CryptoKey | Uint8Array;
  /** When the key was made, in ms. */
  readonly createdAt: number;
}

/**
 * Signs access tokens with the newest signing key, and moves to a new one once
 * it is AUTH_SIGNING_KEY_MAX_AGE_SECONDS old (checked as tokens are issued, so
 * an idle service needs no timer). The old key stays published until the
 * tokens it signed have expired.
 */
@Injectable()
export class TokenIssuer implements OnModuleInit {
  private signer: Signer | undefined;
  private rotating: Promise<void> | undefined;
  private readonly maxAgeSeconds: number;

  constructor(@Inject(AUTH_CONTEXT) private readonly context: DomainContext) {
    this.maxAgeSeconds = context.settings.AUTH_SIGNING_KEY_MAX_AGE_SECONDS as number;
  }

  async onModuleInit(): Promise<void> {
    await this.rotate();
  }

  async issue(user: { id: string; email: string }, now: Date = new Date()): Promise<string> {
    if (!this.signer) throw new Error('TokenIssuer used before the module started');
    if (Date.now() - this.signer.createdAt >= this.maxAgeSeconds * 1000) {
      // One rotation at a time; logins that arrive meanwhile wait for it.
      await (this.rotating ??= this.rotate().finally(() => (this.rotating = undefined)));
    }
    const signer = this.signer;
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: TOKEN.algorithm, kid: signer.kid })
      .setSubject(user.id)
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + TOKEN_TTL_SECONDS)
      .sign(signer.key);
  }

  private async rotate(): Promise<void> {
    this.signer = await signerOf(await rotateSigningKeys(this.context.database, this.maxAgeSeconds));
  }
}

async function signerOf(key: StoredSigningKey): Promise<Signer> {
  return { kid: key.kid, key: await importJWK(key.privateJwk, TOKEN.algorithm), createdAt: key.createdAt.getTime() };
}
