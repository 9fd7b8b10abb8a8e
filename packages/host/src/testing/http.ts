import assert from 'node:assert/strict';
import type { Page, Problem } from '@portal/contracts/api';

export interface RequestOptions {
  /** Sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as it is, labelled JSON: for bodies JSON.stringify cannot make, such as broken ones. */
  readonly raw?: string;
  /** Sent last, so they win over what `token` and `body` set. */
  readonly headers?: Record<string, string>;
}

export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  /** The content-type header: tells a problem document from a plain answer. */
  readonly type: string | null;
  readonly headers: Headers;
  /** The body as it came, for comparing replies byte for byte. */
  readonly text: string;
  /** The body parsed as JSON; undefined when there is none. */
  readonly body: T;
}

/** A request to `base` + `path`, answered as JSON. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply<T>> {
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, text, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The fields a 400 problem names, in its order; none for any other reply. */
export const fieldsOf = (reply: Reply<unknown>): string[] => ((reply.body as Partial<Problem> | undefined)?.errors ?? []).map((e) => e.field);

/**
 * Every item of a cursor list at `path`, `limit` a page, with the number of
 * pages it took. Fails unless each page answers 200, every page but the last
 * is full, and the list ends; repeats and gaps are for the caller to see in
 * the items.
 */
export async function walk<T>(
  host: { readonly url: string },
  path: string,
  limit: number,
  options: Pick<RequestOptions, 'token'> = {},
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages <= 100; pages += 1) {
    const url = `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const res = await call<Page<T>>(host.url, 'GET', url, options);
    assert.equal(res.status, 200, `GET ${url}: ${res.text}`);
    items.push(...res.body.items);
    if (res.body.nextCursor === undefined) {
      assert.ok(res.body.items.length <= limit, `GET ${url}: the last page holds ${res.body.items.length} items`);
      return { items, pages };
    }
    assert.equal(res.body.items.length, limit, `GET ${url}: a page before the last is not full`);
    cursor = res.body.nextCursor;
  }
  throw new Error(`GET ${path}: the list did not end within 100 pages`);
}
