import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';

const TYPE = 'https://portal.example/problems/';

/** Headers policies added to a response the dispatch runs, kept until the answer is written. */
const DEFERRED = Symbol('portal.deferredHeaders');
type Deferring = ServerResponse & { [DEFERRED]?: Record<string, string> };

/**
 * From now on the headers policies add to `res` wait for its answer and are
 * written with it. Why: a header set with `res.setHeader()` before
 * `writeHead()` sends Node down writeHead's slow path, where every header of
 * the answer is set and checked once more; measured ~10 us of the gateway's
 * ~90 us per proxied request. Only for requests whose every answer is written
 * by our code (sendProblem, the proxy, the CORS preflight): the pipeline
 * dispatch's. Under express-gateway's own dispatch, another policy may answer,
 * so headers are set at once there.
 */
export function deferHeaders(res: ServerResponse): void {
  (res as Deferring)[DEFERRED] = {};
}

/** Adds a header to whatever answer `res` gets. */
export function addHeader(res: ServerResponse, name: string, value: string): void {
  const deferred = (res as Deferring)[DEFERRED];
  if (deferred) deferred[name] = value;
  else res.setHeader(name, value);
}

/** `headers` with the deferred ones underneath (same name: `headers` wins), for writeHead(). */
export function withAddedHeaders<T extends Record<string, string | number | string[]>>(res: ServerResponse, headers: T): T {
  const deferred = (res as Deferring)[DEFERRED];
  return deferred ? { ...deferred, ...headers } : headers;
}

/**
 * Answers with an RFC 9457 problem document, the same shape the services
 * answer with, so a client handles a gateway error and a service error alike.
 */
export function sendProblem(res: ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: `${TYPE}${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, title, status, detail });
  res.writeHead(status, withAddedHeaders(res, { ...headers, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }));
  res.end(body);
}
