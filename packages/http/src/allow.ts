import type { RegisteredRoute } from './app.js';

/**
 * The methods a path is served with, for a 405's `Allow` header when a request
 * used another one (RFC 9110 15.5.6); undefined when no route has the path,
 * which stays a 404. Fastify's router knows only "no route", so the routes'
 * patterns (`/api/news/articles/:id`) are matched here, once compiled.
 */
export function allowedMethods(routes: readonly RegisteredRoute[]): (path: string) => string | undefined {
  const patterns = new Map<string, { regex: RegExp; methods: Set<string> }>();
  for (const { method, url } of routes) {
    let entry = patterns.get(url);
    if (!entry) {
      const source = url
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { regex: new RegExp(`^${source}/?$`), methods: new Set() };
      patterns.set(url, entry);
    }
    entry.methods.add(method);
    // Fastify answers HEAD wherever it answers GET.
    if (method === 'GET') entry.methods.add('HEAD');
  }
  const entries = [...patterns.values()];
  return (path) => {
    const methods = new Set<string>();
    for (const { regex, methods: served } of entries) if (regex.test(path)) for (const m of served) methods.add(m);
    return methods.size === 0 ? undefined : [...methods].sort().join(', ');
  };
}
