import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { TOKEN, keySetVerifier } from '@portal/http';
import type { DomainDefinition } from '../domain.js';

export interface FakeAuth {
  /** Host this next to the domains under test: it gives them the verifier. */
  readonly domain: DomainDefinition;
  /** A token for `userId` (a new user if left out), signed as the auth service would sign it. */
  token(userId?: string): Promise<string>;
}

/**
 * A stand-in for the auth domain, so a domain's tests need neither auth's
 * database nor its routes: it only supplies the verifier every domain in the
 * process uses, for tokens signed with a key pair made here. Each call makes
 * a new key pair, so another fakeAuth's tokens are foreign to this one.
 */
export async function fakeAuth(): Promise<FakeAuth> {
  const keys = await generateKeyPair(TOKEN.algorithm, { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'test', alg: TOKEN.algorithm };
  @Module({})
  class FakeAuthModule {}
  const domain: DomainDefinition = {
    name: 'auth',
    // The host adds the outbox and inbox tables its relay needs; there is nothing else to store.
    migrations: [],
    module: () => ({ module: FakeAuthModule }),
    api: { info: { title: 'auth (test stand-in)', version: '0' }, routes: [] },
    localVerifier: async () => keySetVerifier(createLocalJWKSet({ keys: [jwk] })),
  };
  return {
    domain,
    token: (userId = randomUUID()) =>
      new SignJWT({ email: `${userId.slice(0, 8)}@example.test` })
        .setProtectedHeader({ alg: TOKEN.algorithm, kid: 'test' })
        .setSubject(userId)
        .setIssuer(TOKEN.issuer)
        .setAudience(TOKEN.audience)
        .setIssuedAt()
        .setExpirationTime('15m')
        .sign(keys.privateKey),
  };
}
