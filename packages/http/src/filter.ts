import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@portal/observability';
import { ProblemException, unavailable as unavailableProblem } from './problem.js';

interface ProblemReply {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** What is down, when `error` means a dependency cannot answer now; undefined for anything else. */
export type Unavailable = (error: unknown) => string | undefined;

// Long enough for a database restart or failover to finish, short enough not to lose the client.
const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** Maps anything thrown while serving a request to an RFC 9457 problem. */
export function toProblem(exception: unknown, request: FastifyRequest, logger: Logger, unavailable?: Unavailable): ProblemReply {
  const base = { instance: request.url, requestId: request.id };
  if (exception instanceof ProblemException) {
    const { type = 'about:blank', errors, headers = {} } = exception.extra;
    return {
      status: exception.status,
      headers,
      body: { type, title: exception.title, status: exception.status, detail: exception.detail, ...base, ...(errors ? { errors } : {}) },
    };
  }
  const status = statusOf(exception);
  if (status !== undefined && status < 500) {
    return {
      status,
      headers: {},
      body: { type: 'about:blank', title: titleOf(status), status, detail: detailOf(exception, status), ...base },
    };
  }
  const down = unavailable?.(exception);
  if (down !== undefined) {
    logger.warn('request failed: dependency unavailable', { error: exception, method: request.method, url: request.url });
    return toProblem(unavailableProblem(`${down}; try again`, UNAVAILABLE_RETRY_AFTER_SECONDS), request, logger);
  }
  logger.error('request failed', { error: exception, method: request.method, url: request.url });
  return {
    status: 500,
    headers: {},
    body: { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'The server failed; the error is logged with this request id.', ...base },
  };
}

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  // Fastify's own errors (body too large, bad JSON, wrong media type) carry a status.
  const code = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function titleOf(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' }[status] ??
    'Error'
  );
}

function detailOf(exception: unknown, status: number): string {
  // Nest wraps Fastify's body-parser errors in an HttpException; the code is on the cause.
  const own = exception as { code?: unknown; cause?: { code?: unknown } };
  const code = own.code ?? own.cause?.code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'body: the request body is larger than this service accepts';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'header.content-type: send the body as application/json';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'body: content-type is application/json but the body is empty';
  if (exception instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'body: not valid JSON';
  if (exception instanceof HttpException && status === 404) return exception.message.replace(/^Cannot /, 'No route for ');
  return exception instanceof Error ? exception.message : titleOf(status);
}

export function sendProblem(reply: FastifyReply, problem: ProblemReply): void {
  void reply.status(problem.status).headers(problem.headers).type('application/problem+json').send(JSON.stringify(problem.body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly unavailable?: Unavailable,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), toProblem(exception, http.getRequest<FastifyRequest>(), this.logger, this.unavailable));
  }
}
