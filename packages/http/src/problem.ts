import { STATUS_CODES } from 'node:http';

export interface FieldError {
  /** Where the bad value is: `body.title`, `query.limit`, `param.id`, `header.idempotency-key`. */
  readonly field: string;
  readonly message: string;
}

/**
 * An error the client can act on, answered as an RFC 9457 problem document.
 * Domain code throws these; anything else becomes a logged 500, or a 503 when
 * the app's `unavailable` option says a dependency is down.
 */
export class ProblemException extends Error {
  override readonly name = 'ProblemException';

  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { title?: string; type?: string; errors?: readonly FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  get title(): string {
    return this.extra.title ?? STATUS_CODES[this.status] ?? 'Error';
  }
}

export const badRequest = (errors: readonly FieldError[]) =>
  new ProblemException(400, errors.map((e) => `${e.field}: ${e.message}`).join('; '), {
    title: 'Invalid request',
    type: 'https://portal.example/problems/invalid-request',
    errors,
  });
export const notFound = (what: string, id: string) =>
  new ProblemException(404, `${what} ${id} does not exist`, { type: 'https://portal.example/problems/not-found' });
export const conflict = (detail: string) =>
  new ProblemException(409, detail, { type: 'https://portal.example/problems/conflict' });
export const unauthorized = (detail: string) =>
  new ProblemException(401, detail, { type: 'https://portal.example/problems/unauthorized', headers: { 'www-authenticate': 'Bearer' } });
/** A dependency is down: the client may try again; Retry-After says when. */
export const unavailable = (detail: string, retryAfterSeconds = 5) =>
  new ProblemException(503, detail, { type: 'https://portal.example/problems/unavailable', headers: { 'retry-after': String(retryAfterSeconds) } });
/** Too many attempts: the client may try again after Retry-After seconds. */
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new ProblemException(429, detail, { type: 'https://portal.example/problems/too-many-requests', headers: { 'retry-after': String(retryAfterSeconds) } });
export const forbidden = (detail: string) =>
  new ProblemException(403, detail, { type: 'https://portal.example/problems/forbidden' });
