import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, fieldsOf, walk } from './http.js';

// A list of 7 letters behind a cursor that needs encoding, and an echo of
// whatever else is asked: enough to see what the helpers send and read.
const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

async function answer(req: IncomingMessage, res: ServerResponse) {
  let text = '';
  for await (const chunk of req) text += chunk;
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const limit = Number(url.searchParams.get('limit'));
  const from = url.searchParams.has('cursor') ? Number(url.searchParams.get('cursor')!.replace('at ', '')) : 0;
  const next = from + limit < LETTERS.length ? { nextCursor: `at ${from + limit}` } : {};
  switch (url.pathname) {
    case '/letters':
      if (url.searchParams.get('as') === 'owner' && req.headers.authorization !== 'Bearer owner') return json(401, { status: 401 });
      return json(200, { items: LETTERS.slice(from, from + limit), ...next });
    case '/short-pages':
      return json(200, { items: LETTERS.slice(from, from + 1), ...next });
    case '/endless':
      return json(200, { items: LETTERS.slice(0, limit), nextCursor: 'at 0' });
    case '/empty':
      return json(204, undefined);
    case '/invalid':
      return json(400, { status: 400, errors: [{ field: 'body.title', message: 'x' }, { field: 'query.limit', message: 'y' }] }, 'application/problem+json');
    default:
      return json(200, { method: req.method, headers: req.headers, text });
  }
}

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface Echo {
  method: string;
  headers: Record<string, string>;
  text: string;
}

describe('call', () => {
  it('sends a body as JSON with the bearer token, and reads the reply every way a test needs', async () => {
    const res = await call<Echo>(base, 'POST', '/echo', { token: 't0k', body: { a: 1 } });
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual(res.body);
    expect(res.body).toMatchObject({ method: 'POST', text: '{"a":1}', headers: { authorization: 'Bearer t0k', 'content-type': 'application/json' } });
  });

  it('sends nothing it was not given', async () => {
    const res = await call<Echo>(base, 'GET', '/echo');
    expect(res.body.text).toBe('');
    expect(res.body.headers).not.toHaveProperty('authorization');
    expect(res.body.headers).not.toHaveProperty('content-type');
  });

  it('sends a raw body as it is, and lets headers win over what it would set', async () => {
    const res = await call<Echo>(base, 'PUT', '/echo', { token: 't0k', raw: '{"broken":', headers: { authorization: 'Basic eDp5', 'x-request-id': 'r1' } });
    expect(res.body).toMatchObject({ text: '{"broken":', headers: { authorization: 'Basic eDp5', 'content-type': 'application/json', 'x-request-id': 'r1' } });
  });

  it('gives an empty reply an undefined body', async () => {
    const res = await call(base, 'GET', '/empty');
    expect(res).toMatchObject({ status: 204, text: '', body: undefined });
  });
});

describe('fieldsOf', () => {
  it('names the fields of a 400 in order, and none for other replies', async () => {
    const invalid = await call(base, 'GET', '/invalid');
    expect(invalid.type).toMatch(/^application\/problem\+json/);
    expect(fieldsOf(invalid)).toEqual(['body.title', 'query.limit']);
    expect(fieldsOf(await call(base, 'GET', '/echo'))).toEqual([]);
    expect(fieldsOf(await call(base, 'GET', '/empty'))).toEqual([]);
  });
});

describe('walk', () => {
  it('reads a list page by page, passing the cursor back encoded', async () => {
    expect(await walk<string>({ url: base }, '/letters', 3)).toEqual({ items: LETTERS, pages: 3 });
    expect(await walk<string>({ url: base }, '/letters', 7)).toEqual({ items: LETTERS, pages: 1 });
  });

  it('adds its query to one the path has, and sends the token', async () => {
    expect((await walk<string>({ url: base }, '/letters?as=owner', 4, { token: 'owner' })).items).toEqual(LETTERS);
    await expect(walk({ url: base }, '/letters?as=owner', 4)).rejects.toThrow(/401/);
  });

  it('fails on a page short of the limit before the last, and on a list that never ends', async () => {
    await expect(walk({ url: base }, '/short-pages', 2)).rejects.toThrow(/not full/);
    await expect(walk({ url: base }, '/endless', 2)).rejects.toThrow(/did not end/);
  });
});
