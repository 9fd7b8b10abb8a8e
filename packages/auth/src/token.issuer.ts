import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { SignJWT, importJWK } from 'jose';
import type { CryptoKey } from 'jose';
import type { DomainContext } from '@portal/host';
import { TOKEN } from '@portal/http';
import { AUTH_CONTEXT, TOKEN_TTL_SECONDS } from './auth.tokens.js';
import { loadSigningKeys } from './signing.keys.js';

/** Signs access tokens with the newest signing key, loaded (or made) at start. */
@Injectable()
export class TokenIssuer implements OnModuleInit {
  private signer: { kid: string; key: CryptoKey | Uint8Array } | undefined;

  constructor(@Inject(AUTH_CONTEXT) private readonly context: DomainContext) {}

  async onModuleInit(): Promise<void> {
    const [newest] = await loadSigningKeys(this.context.database);
    if (!newest) throw new Error('no signing key after generating one');
    this.signer = { kid: newest.kid, key: await importJWK(newest.privateJwk, TOKEN.algorithm) };
  }

  async issue(user: { id: string; email: string }, now: Date = new Date()): Promise<string> {
    if (!this.signer) throw new Error('TokenIssuer used before the module started');
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: TOKEN.algorithm, kid: this.signer.kid })
      .setSubject(user.id)
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + TOKEN_TTL_SECONDS)
      .sign(this.signer.key);
  }
}
