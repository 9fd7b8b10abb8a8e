import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from '@portal/observability';
import { ROUTED_INSTANCE, ROUTED_UPSTREAM } from './gateway.metrics.js';
import type { GatewayMetrics, RoutedRequest } from './gateway.metrics.js';
import { sendProblem, withAddedHeaders } from './problem.js';
import type { Instance, UpstreamService } from './upstream.pool.js';

export interface ProxyOptions {
  /**
   * From the request's arrival at the proxy until the upstream's headers, waiting
   * for a pooled connection included; and between two body chunks of the answer.
   */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
}

/**
 * Headers of one hop only (RFC 9110 §7.6.1), never forwarded either way; `host`
 * is the upstream's own. `expect` is ours to honour (the gateway answers
 * 100-continue itself, see gateway.ts), and undici refuses it outright.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'expect',
]);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Connection errors where the connection existed and broke, rather than never being made. */
const RESETS = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** undici refused the request as given, before sending anything: the request's fault, never the instance's. */
const REFUSED = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);
/** undici names the header it refused: "invalid content-type header", "expect header not supported". */
const REFUSED_HEADER = /^(?:invalid )?([\w-]+) header(?: not supported)?$/;

/** Set by the gateway's server on a request that sent `Expect: 100-continue`: the proxy says "continue" when it forwards the body. */
export const EXPECTS_CONTINUE = Symbol('portal.expectsContinue');

/** Where a policy before the proxy leaves a replacement for the request body (a size-checked stream). */
export const REQUEST_BODY = Symbol('portal.requestBody');
type ProxiedRequest = RoutedRequest & { [REQUEST_BODY]?: Readable; [EXPECTS_CONTINUE]?: boolean; originalUrl?: string };

export class PayloadTooLarge extends Error {
  override readonly name = 'PayloadTooLarge';
}

/** Why the gateway aborts an upstream request: its client closed the connection first. */
class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/** Why the gateway aborts an upstream request: its deadline passed before the upstream's headers came. */
class DeadlinePassed extends Error {
  override readonly name = 'DeadlinePassed';
}

/** The controller undici hands a dispatch handler (undici's Dispatcher.DispatchController). */
type UpstreamRequest = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

function upstreamHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  const incoming = req.headers;
  for (const name in incoming) if (!HOP_BY_HOP.has(name)) headers[name] = incoming[name];
  const connection = incoming.connection;
  // Headers the client declared hop-by-hop in Connection are not forwarded either.
  if (connection && connection !== 'keep-alive' && connection !== 'close') {
    for (const token of connection.toLowerCase().split(',')) delete headers[token.trim()];
  }
  const client = req.socket.remoteAddress ?? '';
  const forwarded = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded ? `${String(forwarded)}, ${client}` : client;
  headers['x-forwarded-proto'] ??= 'http';
  if (incoming.host) headers['x-forwarded-host'] ??= incoming.host;
  return headers;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const codeOf = (error: unknown): string => {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.cause?.code ?? e?.code ?? 'UNKNOWN';
};

/**
 * Forwards a request to one instance of `service` over that instance's
 * keep-alive pool, streaming both bodies, and answers the client with what it
 * says. The path goes unchanged: each service serves /api/<name>/… itself.
 *
 * A request without a body that could not reach its instance is tried once
 * more on another; nothing was sent, so nothing can happen twice.
 *
 * One deadline, `timeoutMs`, runs from here to the upstream's headers: a
 * request waiting in a full pool gets its 504 too, rather than waiting for a
 * connection that may never free up.
 */
export function forward(req: IncomingMessage, res: ServerResponse, service: UpstreamService, options: ProxyOptions): void {
  const request = req as ProxiedRequest;
  const method = req.method ?? 'GET';
  const hasBody = request[REQUEST_BODY] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  const headers = upstreamHeaders(req);
  const path = request.originalUrl ?? req.url ?? '/';
  const metrics = options.metrics;
  request[ROUTED_UPSTREAM] = service;
  // The upstream request under way (a retry replaces it), and why it must stop if it has not started yet:
  // undici starts a request queued in the pool only when a connection frees up, and only then can it be aborted.
  let upstream: UpstreamRequest | undefined;
  let stopped: Error | undefined;
  // The deadline passed before any attempt left the pool's queue: answered 504 then, nothing left to answer.
  let expiredInQueue = false;
  // Whether the breaker let this request through as its half-open trial: an outcome that says nothing about the service must hand the trial on.
  let trial = false;
  const inconclusive = () => {
    if (trial) service.breaker.abandonTrial();
  };
  const stop = (reason: Error) => {
    stopped = reason;
    upstream?.abort(reason);
  };
  // Unref'd: a deadline alone never keeps the process up.
  const deadline = setTimeout(() => {
    if (upstream) return stop(new DeadlinePassed());
    // Still queued for a connection: the instance never saw it, so it does not count against it.
    expiredInQueue = true;
    inconclusive();
    stop(new DeadlinePassed());
    const instance = request[ROUTED_INSTANCE];
    if (instance) metrics?.upstreamError(service, instance, 'timeout');
    // The client's body, if any, was not read: this connection cannot carry another request.
    sendProblem(res, 504, `the ${service.name} service did not answer within ${options.timeoutMs} ms`, hasBody ? { connection: 'close' } : {});
  }, options.timeoutMs).unref();
  res.on('close', () => {
    clearTimeout(deadline);
    // The client left before the whole answer: stop reading it for nobody.
    if (!res.writableFinished) stop(new ClientGone());
  });

  const attempt = (except: Instance | undefined, retriesLeft: number, admitted = false): void => {
    const breaker = service.breaker;
    // A retry already holds the breaker's permission: asking again in half-open state would refuse the breaker's own trial and leave it half-open for good.
    if (!admitted && !breaker.allow()) {
      const seconds = Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000));
      sendProblem(res, 503, `the ${service.name} service is failing; the gateway stops sending it requests for a while`, { 'retry-after': String(seconds) });
      return;
    }
    if (!admitted) trial = breaker.state === 'half-open';
    const instance = service.pick(except);
    if (!instance) {
      if (service.size === 0) {
        // Nothing failed: discovery has found no instance yet. Opening the breaker would refuse the first instances it finds.
        inconclusive();
        sendProblem(res, 503, `no instance of the ${service.name} service is known`, { 'retry-after': '1' });
        return;
      }
      breaker.open();
      sendProblem(res, 503, `every instance of the ${service.name} service is failing`, { 'retry-after': String(Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000))) });
      return;
    }
    request[ROUTED_INSTANCE] = instance;
    upstream = undefined;
    if (hasBody && request[EXPECTS_CONTINUE]) {
      // The client waits for this before sending its body; the policies before have accepted the request.
      request[EXPECTS_CONTINUE] = false;
      res.writeContinue();
    }
    let answered = false;
    // dispatch() with a handler writing straight to the response, not stream(): no Writable
    // pipeline per request; measured ~25 % less CPU per proxied request (docs/architecture.md).
    instance.dispatcher.dispatch(
      {
        path,
        method,
        headers,
        body: hasBody ? (request[REQUEST_BODY] ?? (req as Readable)) : null,
        // The deadline above stands for undici's headers timeout, and starts earlier.
        headersTimeout: 0,
        bodyTimeout: options.timeoutMs,
      },
      {
        onRequestStart(controller) {
          upstream = controller;
          if (stopped) controller.abort(stopped);
        },
        onResponseStart(controller, statusCode, upstreamHeaders) {
          // 1xx answers are the upstream's business with us; the client gets the final one.
          if (statusCode < 200) return;
          answered = true;
          clearTimeout(deadline);
          service.answered(instance, statusCode);
          if (statusCode >= 502 && statusCode <= 504) breaker.failure();
          else breaker.success();
          res.writeHead(statusCode, withAddedHeaders(res, responseHeaders(upstreamHeaders as Record<string, string | string[] | undefined>)));
        },
        onResponseData(controller, chunk) {
          if (!res.write(chunk)) {
            controller.pause();
            res.once('drain', () => controller.resume());
          }
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError(_controller, error) {
          clearTimeout(deadline);
          if (expiredInQueue) return;
          if (error instanceof ClientGone) return inconclusive();
          const tooLarge = error instanceof PayloadTooLarge ? error : (error as { cause?: unknown }).cause instanceof PayloadTooLarge ? (error.cause as Error) : undefined;
          // Before the check on the client: reading the client's body stopped at the limit, which may have ended that stream too.
          if (tooLarge && !res.headersSent) {
            inconclusive();
            sendProblem(res, 413, tooLarge.message, { connection: 'close' });
            return;
          }
          // The client left, or its body broke off: nobody to answer, and nothing the instance did.
          if (req.errored) return inconclusive();
          if (answered || res.headersSent) {
            // The answer was under way: all that is left is to cut it short, so the client sees it is incomplete.
            metrics?.upstreamError(service, instance, TIMEOUTS.has(codeOf(error)) ? 'timeout' : 'reset');
            res.destroy();
            return;
          }
          const code = codeOf(error);
          if (REFUSED.has(code)) {
            // Nothing went upstream: neither the instance nor the breaker hears of it.
            inconclusive();
            const header = REFUSED_HEADER.exec(error.message)?.[1];
            if (header) sendProblem(res, 400, `header.${header.toLowerCase()}: the gateway cannot forward this header (${error.message})`, { connection: 'close' });
            else if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') sendProblem(res, 400, `header.content-length: the body does not match it`, { connection: 'close' });
            else {
              options.logger.error('proxy refused a request', { service: service.name, error });
              sendProblem(res, 502, `the gateway could not forward this request to the ${service.name} service (${error.message})`);
            }
            return;
          }
          if (error instanceof DeadlinePassed || TIMEOUTS.has(code)) {
            metrics?.upstreamError(service, instance, 'timeout');
            service.failed(instance, `no answer within ${options.timeoutMs} ms`);
            breaker.failure();
            sendProblem(res, 504, `the ${service.name} service did not answer within ${options.timeoutMs} ms`);
            return;
          }
          if (CONNECT_ERRORS.has(code)) {
            metrics?.upstreamError(service, instance, RESETS.has(code) ? 'reset' : 'connect');
            service.failed(instance, code);
            if (!hasBody && (method === 'GET' || method === 'HEAD') && retriesLeft > 0) {
              attempt(instance, retriesLeft - 1, true);
              return;
            }
            breaker.failure();
            sendProblem(res, 502, `the ${service.name} service could not be reached (${code})`);
            return;
          }
          options.logger.error('proxy failed', { service: service.name, instance: instance.url, error });
          metrics?.upstreamError(service, instance, 'reset');
          breaker.failure();
          sendProblem(res, 502, `the ${service.name} service failed to answer (${code})`);
        },
      },
    );
  };
  attempt(undefined, 2);
}
