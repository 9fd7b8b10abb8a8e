import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { MESSAGING_MIGRATION } from '@portal/event-bus';
import { TOKEN, keySetVerifier } from '@portal/http';
import type { DomainDefinition } from '@portal/host';

/**
 * A stand-in for the auth domain: it only issues the verifier every domain in
 * the process uses, for tokens signed with a key pair made here.
 */
export async function fakeAuth(): Promise<{ domain: DomainDefinition; token: (userId?: string) => Promise<string> }> {
  const keys = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'test', alg: 'EdDSA' };
  @Module({})
  class FakeAuthModule {}
  const domain: DomainDefinition = {
    name: 'auth',
    // The host runs an outbox relay for every domain it hosts, so even this one needs the table.
    migrations: [MESSAGING_MIGRATION],
    module: () => ({ module: FakeAuthModule }),
    api: { info: { title: 'fake auth', version: '0' }, routes: [] },
    localVerifier: async () => keySetVerifier(createLocalJWKSet({ keys: [jwk] })),
  };
  const token = (userId: string = randomUUID()) =>
    new SignJWT({ email: `${userId.slice(0, 8)}@example.com` })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'test' })
      .setSubject(userId)
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(keys.privateKey);
  return { domain, token };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  type: string | null;
  body: T;
}

/** A JSON request to `base`, with an optional bearer token. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: (text ? JSON.parse(text) : undefined) as T };
}
