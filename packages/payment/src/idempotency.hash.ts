import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth: two requests that differ only
 * in key order are the same request. Array order is kept; it means something.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What an idempotency key is bound to: the operation and its (validated) input. */
export function requestHash(request: { operation: string; [part: string]: unknown }): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}
