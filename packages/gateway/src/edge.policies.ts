import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { TokenVerifier } from '@portal/http';
import { addHeader, sendProblem, withAddedHeaders } from './problem.js';
import { PayloadTooLarge, REQUEST_BODY } from './proxy.policy.js';
import type { RateLimiter } from './rate.limiter.js';

/** An Express-style middleware, what an express-gateway policy returns. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** Ids a client may choose: short, and safe to write into logs and headers. */
const SANE_REQUEST_ID = /^[\w.:@+=/-]{1,128}$/;

/** Keeps the client's x-request-id when it is sane, otherwise makes one; upstream and the client both see it. */
export function requestIdPolicy(): Middleware {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    addHeader(res, 'x-request-id', id);
    next();
  };
}

const EXPOSED = 'x-request-id,retry-after,location';
/** What a preflight is told: cached for ten minutes. */
const PREFLIGHT = {
  'access-control-allow-methods': 'GET,HEAD,POST,PUT,PATCH,DELETE',
  'access-control-allow-headers': 'authorization,content-type,idempotency-key,x-request-id',
  'access-control-max-age': '600',
  'content-length': '0',
};

/**
 * CORS: the headers a browser needs to read the answers, and the answer to a
 * preflight (any OPTIONS) itself. Headers are fixed strings, set as they are:
 * the `cors` package built them anew on every request, a measurable share of
 * the gateway's CPU. With a list of origins, a request that names another
 * origin is refused with 403 rather than passed on without the headers: the
 * browser would hide the answer, but a write would already have happened upstream.
 */
export function corsPolicy(origins: '*' | readonly string[]): Middleware {
  const allowed = origins === '*' ? undefined : new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (!allowed) {
      addHeader(res, 'access-control-allow-origin', '*');
    } else {
      if (origin !== undefined && !allowed.has(origin)) {
        sendProblem(res, 403, `header.origin: ${JSON.stringify(origin.slice(0, 200))} may not call this API; allowed: ${[...allowed].join(', ')}`);
        return;
      }
      // The answer depends on the Origin: caches must keep one per origin.
      addHeader(res, 'vary', 'Origin');
      if (origin !== undefined) addHeader(res, 'access-control-allow-origin', origin);
    }
    addHeader(res, 'access-control-expose-headers', EXPOSED);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, withAddedHeaders(res, PREFLIGHT));
      res.end();
      return;
    }
    next();
  };
}

/**
 * The client's address: the TCP peer, unless `trustedHops` proxies stand in
 * front, each appending the address it received from to X-Forwarded-For; then
 * the entry the outermost of them appended. Entries left of it are whatever
 * the client sent, so never believed. A header too short or an entry that is
 * no IP address falls back to the peer: a made-up header never earns a fresh
 * budget, it shares the proxy's.
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded !== 'string') return peer;
  const entries = forwarded.split(',');
  const entry = entries.length >= trustedHops ? entries[entries.length - trustedHops]?.trim() : undefined;
  return entry !== undefined && isIP(entry) !== 0 ? entry : peer;
}

/**
 * Per user where the request carries a verified token (so it runs after
 * portal-auth, which sets x-user-id only then), otherwise per client address;
 * 429 with Retry-After past the limit.
 */
export function rateLimitPolicy(limiter: RateLimiter, trustedHops: number): Middleware {
  return (req, res, next) => {
    const user = req.headers['x-user-id'];
    const waitMs = limiter.take(typeof user === 'string' ? user : clientAddress(req, trustedHops));
    if (waitMs === 0) return next();
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    sendProblem(res, 429, `too many requests from this client; retry in ${seconds} s`, { 'retry-after': String(seconds) });
  };
}

async function* limited(body: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > limit) throw new PayloadTooLarge(`the request body is larger than ${limit} bytes`);
    yield chunk;
  }
}

/**
 * 413 for a body over the limit: at once when Content-Length says so, and
 * part-way for a chunked body, which is counted as it streams upstream.
 */
export function bodyLimitPolicy(limit: number): Middleware {
  return (req, res, next) => {
    const length = req.headers['content-length'];
    if (length !== undefined) {
      if (Number(length) > limit) {
        // Close: the client may still be sending a body nobody will read.
        sendProblem(res, 413, `the request body (${length} bytes) is larger than ${limit} bytes`, { connection: 'close' });
        return;
      }
    } else if (req.headers['transfer-encoding'] !== undefined) {
      (req as IncomingMessage & { [REQUEST_BODY]?: Readable })[REQUEST_BODY] = Readable.from(limited(req, limit), { objectMode: false });
    }
    next();
  };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/;

export interface AuthRule {
  /** 'always': every request needs a user (payments); 'writes': every non-read does. */
  readonly require: 'always' | 'writes';
  /** `METHOD /path` pairs that never need one (signing up, signing in). */
  readonly open?: readonly string[];
}

/**
 * Checks the bearer token against the auth service's keys and passes the user
 * upstream in x-user-id. A client-sent x-user-id is dropped on every request:
 * only a verified token sets it. A token sent where none is needed must be
 * valid too, so a service never sees a user the gateway did not verify.
 */
export function authPolicy(verifier: TokenVerifier, rule: AuthRule): Middleware {
  const open = new Set(rule.open ?? []);
  return (req, res, next) => {
    // Only when sent: deleting a property makes V8 keep the headers as a slower dictionary, for every later step.
    if (req.headers['x-user-id'] !== undefined) delete req.headers['x-user-id'];
    const method = req.method ?? 'GET';
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      if (rule.require !== 'always' && READS.has(method)) return next();
      const path = (req.url ?? '/').split('?', 1)[0]?.replace(/\/+$/, '') ?? '/';
      if (open.has(`${method} ${path}`)) return next();
      sendProblem(res, 401, 'header.authorization: sign in and send "Authorization: Bearer <token>"', { 'www-authenticate': 'Bearer' });
      return;
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      sendProblem(res, 401, 'header.authorization: expected "Bearer <token>"', { 'www-authenticate': 'Bearer' });
      return;
    }
    verifier.verify(token).then(
      (user) => {
        req.headers['x-user-id'] = user.userId;
        next();
      },
      (error: unknown) => {
        const problem = error as { status?: number; detail?: string; extra?: { headers?: Record<string, string> } };
        const detail = problem.detail ?? (error instanceof Error ? error.message : 'token: invalid');
        // The auth service's keys are out of reach: 503 and retry, not "sign in again".
        if (problem.status === 503) sendProblem(res, 503, detail, problem.extra?.headers ?? {});
        else sendProblem(res, 401, detail, { 'www-authenticate': 'Bearer error="invalid_token"' });
      },
    );
  };
}

export function notFoundPolicy(): Middleware {
  return (req, res) => sendProblem(res, 404, `no route for ${req.method ?? 'GET'} ${(req.url ?? '/').split('?', 1)[0] ?? '/'}`);
}
