import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { MESSAGING_MIGRATION } from '@portal/event-bus';
import type { DomainDefinition } from '@portal/host';
import { TOKEN, keySetVerifier } from '@portal/http';

/**
 * Stands in for the auth domain: no routes, only the verifier every domain in
 * the process uses, and a way to sign tokens it accepts.
 */
export async function fakeAuth(): Promise<{ domain: DomainDefinition; tokenFor(userId?: string): Promise<{ userId: string; token: string }> }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), alg: TOKEN.algorithm, kid: 'test' };
  @Module({})
  class FakeAuthModule {}
  const domain: DomainDefinition = {
    name: 'auth',
    // The host runs an outbox relay for every domain, so even this one needs the table.
    migrations: [MESSAGING_MIGRATION],
    module: () => ({ module: FakeAuthModule }),
    api: { info: { title: 'auth (test stand-in)', version: '0' }, routes: [] },
    localVerifier: () => Promise.resolve(keySetVerifier(createLocalJWKSet({ keys: [jwk] }))),
  };
  return {
    domain,
    async tokenFor(userId = randomUUID()) {
      const token = await new SignJWT({ email: `${userId.slice(0, 8)}@example.test` })
        .setProtectedHeader({ alg: TOKEN.algorithm, kid: 'test' })
        .setIssuer(TOKEN.issuer)
        .setAudience(TOKEN.audience)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime('15m')
        .sign(privateKey);
      return { userId, token };
    },
  };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

/** A small JSON client for one host and one bearer token. */
export function client(baseUrl: string, token?: string) {
  async function send<T>(method: string, path: string, options: { body?: unknown; rawBody?: string; key?: string } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.key !== undefined) headers['idempotency-key'] = options.key;
    const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text ? JSON.parse(text) : undefined) as T };
  }
  return {
    get: <T = Record<string, unknown>>(path: string) => send<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, options: { body?: unknown; rawBody?: string; key?: string } = {}) => send<T>('POST', path, options),
  };
}

export const paymentRequest = (overrides: Record<string, unknown> = {}) => ({
  item: { type: 'episode', id: randomUUID() },
  amountCents: 300,
  currency: 'EUR',
  paymentMethod: { token: 'tok_ok' },
  ...overrides,
});
