import { randomUUID } from 'node:crypto';
import { call } from '@portal/host/testing';
import type { Reply, RequestOptions } from '@portal/host/testing';

/** What a payment write takes besides the shared options: its Idempotency-Key. */
export interface WriteOptions extends Omit<RequestOptions, 'token'> {
  readonly key?: string;
}

/** `call` for one payer (or nobody), with the Idempotency-Key every payment write takes as an option. */
export function client(baseUrl: string, token?: string) {
  const send = <T>(method: string, path: string, { key, ...options }: WriteOptions = {}): Promise<Reply<T>> =>
    call<T>(baseUrl, method, path, { ...options, token, headers: key === undefined ? options.headers : { ...options.headers, 'idempotency-key': key } });
  return {
    get: <T = Record<string, unknown>>(path: string) => send<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, options: WriteOptions = {}) => send<T>('POST', path, options),
  };
}

export const paymentRequest = (overrides: Record<string, unknown> = {}) => ({
  item: { type: 'episode', id: randomUUID() },
  amountCents: 300,
  currency: 'EUR',
  paymentMethod: { token: 'tok_ok' },
  ...overrides,
});
