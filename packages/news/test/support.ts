import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { expect } from 'vitest';
import { MESSAGING_MIGRATION } from '@portal/event-bus';
import type { DomainDefinition, Host } from '@portal/host';
import { TOKEN, keySetVerifier } from '@portal/http';

/**
 * A stand-in for the auth domain: it only issues the verifier every domain in
 * the process uses, for tokens signed with a key pair made here.
 */
export async function fakeAuth(): Promise<{ domain: DomainDefinition; token: (userId?: string) => Promise<string> }> {
  const keys = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'test', alg: TOKEN.algorithm };
  @Module({})
  class FakeAuthModule {}
  const domain: DomainDefinition = {
    name: 'auth',
    // The host runs an outbox relay for every domain it hosts, so even this one needs the table.
    migrations: [MESSAGING_MIGRATION],
    module: () => ({ module: FakeAuthModule }),
    api: { info: { title: 'auth (test stand-in)', version: '0' }, routes: [] },
    localVerifier: async () => keySetVerifier(createLocalJWKSet({ keys: [jwk] })),
  };
  const token = (userId: string = randomUUID()) =>
    new SignJWT({ email: `${userId.slice(0, 8)}@example.test` })
      .setProtectedHeader({ alg: TOKEN.algorithm, kid: 'test' })
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

export interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A JSON request to `base`; `raw` sends a body as it is. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: (text ? JSON.parse(text) : undefined) as T };
}

/** The fields a 400 names, in order. */
export const fieldsOf = (reply: Reply<unknown>): string[] => ((reply.body as Problem).errors ?? []).map((e) => e.field);

/** Every item of a list, page by page, checking each page's size and that the list ends. */
export async function walk<T>(host: Host, path: string, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages <= 100; pages += 1) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call<Page<T>>(host.url, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    if (res.body.nextCursor === undefined) {
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      return { items, pages };
    }
    expect(res.body.items).toHaveLength(limit);
    cursor = res.body.nextCursor;
  }
  throw new Error(`${path}: the list never ended`);
}
