import type { DomainDefinition } from './domain.js';
import { startHost } from './host.js';
import type { Host } from './host.js';

export { fakeAuth } from './testing/auth.js';
export { assertTooLarge, countRows, overLimit } from './testing/body-limit.js';
export type { FakeAuth } from './testing/auth.js';
export { call, fieldsOf, walk } from './testing/http.js';
export type { Reply, RequestOptions } from './testing/http.js';
export { readOutbox } from './testing/outbox.js';
export type { OutboxRow } from './testing/outbox.js';

/**
 * A host for tests: on a free loopback port, quiet, no demo data. Set
 * DATABASE_URL (or <NAME>_DATABASE_URL) in `env` for a real PostgreSQL.
 */
export function startTestHost(
  domains: readonly DomainDefinition[],
  env: Record<string, string | undefined> = {},
  shape: 'service' | 'monolith' = domains.length > 1 ? 'monolith' : 'service',
): Promise<Host> {
  return startHost({
    service: domains.length === 1 ? (domains[0]?.name ?? 'test') : 'monolith',
    shape,
    domains,
    defaultPort: 0,
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false', ...env },
  });
}

/**
 * Routes a domain serves that its OpenAPI document lacks, and documented
 * routes nobody serves: both lists must be empty.
 */
export function openApiDrift(host: Host, domain: DomainDefinition): { undocumented: string[]; unserved: string[] } {
  const prefix = `/api/${domain.name}/`;
  const served = host.routes
    .filter((r) => r.url.startsWith(prefix) && r.url !== `${prefix}openapi.json`)
    .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  const documented = domain.api.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
  return {
    undocumented: served.filter((r) => !documented.includes(r)).sort(),
    unserved: documented.filter((r) => !served.includes(r)).sort(),
  };
}
