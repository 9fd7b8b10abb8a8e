import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allow.js';

describe('allowedMethods', () => {
  const allow = allowedMethods([
    { method: 'GET', url: '/api/news/articles' },
    { method: 'POST', url: '/api/news/articles' },
    { method: 'GET', url: '/api/news/articles/:id' },
    { method: 'POST', url: '/api/blog/posts/:id/comments' },
  ]);

  it('lists the methods a path is served with, HEAD beside GET', () => {
    expect(allow('/api/news/articles')).toBe('GET, HEAD, POST');
    expect(allow('/api/news/articles/6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b')).toBe('GET, HEAD');
    expect(allow('/api/blog/posts/x/comments')).toBe('POST');
  });

  it('knows no method for a path no route has', () => {
    expect(allow('/api/news/nothing')).toBeUndefined();
    expect(allow('/api/news/articles/a/b')).toBeUndefined();
    expect(allow('/api/news')).toBeUndefined();
  });

  it('takes a pattern literally outside its parameters', () => {
    const dotted = allowedMethods([{ method: 'GET', url: '/api/auth/.well-known/jwks.json' }]);
    expect(dotted('/api/auth/.well-known/jwks.json')).toBe('GET, HEAD');
    expect(dotted('/api/auth/.well-known/jwksXjson')).toBeUndefined();
  });
});
