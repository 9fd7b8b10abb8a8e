import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger, PortalMetrics } from '@portal/observability';
import { enterLogContext, metrics as processMetrics } from '@portal/observability';
import { allowedMethods } from './allow.js';
import { ProblemFilter, sendProblem, toProblem } from './filter.js';
import type { Unavailable } from './filter.js';
import { METRICS_PATH, httpMetrics } from './metrics.js';
import { ProblemException, unavailable } from './problem.js';
import { SchemaValidationPipe } from './validation.js';

export interface HttpAppOptions {
  readonly logger: Logger;
  /** Larger bodies get 413 before anything parses them. */
  readonly bodyLimitBytes?: number;
  /** Where request metrics go and what GET /metrics serves; the process's registry by default. */
  readonly metrics?: PortalMetrics;
  /**
   * Names what is down when an error means a dependency cannot answer now (the
   * database restarting): such a request gets 503 with Retry-After, not 500.
   */
  readonly unavailable?: Unavailable;
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

export interface HttpApp {
  readonly app: NestFastifyApplication;
  /** Every route the server answers, for checks against the OpenAPI documents. */
  readonly routes: readonly RegisteredRoute[];
}

// The same ids the gateway keeps (SANE_REQUEST_ID in @portal/api-gateway): an id it
// passed on must not be replaced here, or a request could not be followed from one to the other.
const REQUEST_ID = /^[\w.:@+=/-]{1,128}$/;

/**
 * Builds (does not listen) a NestJS application on Fastify with the edge every
 * service shares: request ids, problem documents, schema validation, a body
 * limit. Tests drive it in-process with `app.inject`.
 */
export async function createHttpApp(root: Type | DynamicModule, options: HttpAppOptions): Promise<HttpApp> {
  const { logger } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    // A request id from the caller (the gateway) is kept when it looks like
    // one; otherwise this service makes one. It goes back in the response and
    // on every log line and event the request causes.
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Answered below instead: a problem document, like every other error here.
    return503OnClosing: false,
    // No module uses Nest middleware (`configure(consumer)`) or `app.use()`;
    // without middie, every request skips its onRequest hook (about 4% of a
    // small request's JavaScript). A module that adds middleware fails at
    // startup (`use` is missing) rather than silently: then drop this line.
    skipMiddie: true,
    // A body with a `__proto__` or `constructor.prototype` key loses that key
    // rather than being refused as "not valid JSON": it is valid JSON, and no
    // schema here has such a field.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
  });
  const fastify = adapter.getInstance();
  // Bodies are JSON; anything else is 415, not a string a handler might misread.
  fastify.removeContentTypeParser('text/plain');
  const routes: RegisteredRoute[] = [];
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  // From close() on, a request on a connection still open gets 503 and is told to go
  // elsewhere, before any handler sees it; the requests already in flight finish.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Compiled on the first request with no route: every route is registered by then.
  let allow: ((path: string) => string | undefined) | undefined;
  fastify.addHook('onRequest', (request, reply, done) => {
    enterLogContext({ requestId: request.id });
    void reply.header('x-request-id', request.id);
    if (closing) {
      sendProblem(reply.header('connection', 'close'), toProblem(unavailable('this instance is shutting down; another one will answer', 1), request, logger));
      return;
    }
    // A path that is served, with another method: 405 and what is allowed, before
    // anything reads the body (a QUERY without a content type would be a 400 first).
    if (request.is404) {
      const path = request.url.split('?', 1)[0] as string;
      const allowed = (allow ??= allowedMethods(routes))(path);
      if (allowed !== undefined) {
        const problem = new ProblemException(405, `${request.method} is not allowed on ${path}; allowed: ${allowed}`, { headers: { allow: allowed } });
        sendProblem(reply, toProblem(problem, request, logger));
        return;
      }
    }
    done();
  });
  // On the app's own port, outside Nest (no guard, no OpenAPI entry) and not counted itself.
  const registry = options.metrics ?? processMetrics();
  const countRequest = httpMetrics(registry);
  fastify.addHook('onResponse', (request, reply, done) => {
    countRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });
  fastify.get(METRICS_PATH, async (_request, reply) => {
    const { contentType, text } = await registry.exposition();
    return reply.header('content-type', contentType).send(text);
  });

  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, { logger: nestLogger(logger) });
  app.useGlobalPipes(new SchemaValidationPipe());
  app.useGlobalFilters(new ProblemFilter(logger, options.unavailable));
  await app.init();
  return { app, routes };
}

/** Nest's own messages, through the service's JSON logger; its chatter at debug. */
function nestLogger(logger: Logger): LoggerService {
  const text = (message: unknown) => (typeof message === 'string' ? message : JSON.stringify(message));
  return {
    log: (message, context) => logger.debug(text(message), { context }),
    error: (message, trace, context) => logger.error(text(message), { trace, context }),
    warn: (message, context) => logger.warn(text(message), { context }),
    debug: (message, context) => logger.debug(text(message), { context }),
    verbose: (message, context) => logger.debug(text(message), { context }),
  };
}
