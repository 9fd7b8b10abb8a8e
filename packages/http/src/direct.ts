import type { IncomingHttpHeaders } from 'node:http';
import type { InjectionToken, Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { validated } from './validation.js';
import type { Schema } from './validation.js';

/** Answers one request: the response body, sent as it is. Throw a ProblemException to refuse. */
export type DirectHandler = (params: Readonly<Record<string, unknown>>, headers: IncomingHttpHeaders) => string | Promise<string>;

export interface DirectGetRoute {
  /** In Fastify's syntax, e.g. `/api/webtoon/episodes/:id`. */
  readonly path: string;
  /** Each path parameter's schema: a bad value is a 400 naming `param.<name>`, as with `@Param(name, { schema })`. */
  readonly params: Readonly<Record<string, Schema>>;
  /** The Content-Type of a 200; problems have their own. */
  readonly contentType: string;
  /** Providers that `handler` is made from. */
  readonly inject?: readonly InjectionToken[];
  /**
   * Makes the handler from the injected providers. It should return the body
   * itself when it has it at hand: a promise costs on a path this hot.
   */
  readonly handler: (...deps: never[]) => DirectHandler;
}

/**
 * A provider that serves `GET path` from the app's Fastify instance directly,
 * without Nest's router pipeline (guards, pipes, interceptors, the rxjs
 * response handling), for the few hot read routes whose own work is smaller
 * than that pipeline: measured on the webtoon episode read, the pipeline, the
 * global validation pipe and `@Header` cost about a third of the request's
 * JavaScript.
 *
 * It is still the same app and server, so nothing observable changes: the
 * onRequest hooks (request id, log context) run as for any route; an error the
 * handler throws reaches Nest's exception filters (the ProblemFilter) through
 * the error handler Nest gives Fastify; and, as Nest's Fastify adapter does
 * for its routes, an empty path parameter gets the not-found handler. The
 * route shows in the app's route list, so OpenAPI drift checks see it.
 *
 * Use it only where this pays; a controller route is the default.
 */
export function directGetRoute(route: DirectGetRoute): Provider {
  return {
    provide: Symbol(`GET ${route.path}`),
    inject: [HttpAdapterHost, ...(route.inject ?? [])],
    useFactory: (adapterHost: HttpAdapterHost, ...deps: never[]) => {
      const handle = route.handler(...deps);
      const params = Object.entries(route.params).map(([name, schema]) => ({ name, schema, field: `param.${name}` }));
      const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
      fastify.get(route.path, (request, reply) => {
        const raw = request.params as Record<string, string | undefined>;
        const values: Record<string, unknown> = {};
        let pending: Promise<unknown>[] | undefined;
        for (const { name, schema, field } of params) {
          const value = raw[name] ?? '';
          if (value === '') {
            reply.callNotFound();
            return undefined;
          }
          const checked = validated(schema, value, field);
          if (checked instanceof Promise) (pending ??= []).push(checked.then((v) => (values[name] = v)));
          else values[name] = checked;
        }
        const body = pending ? Promise.all(pending).then(() => handle(values, request.headers)) : handle(values, request.headers);
        // Sent here when the body is at hand; Fastify sends what a promise resolves to.
        if (typeof body !== 'string') return body.then((text) => (reply.header('content-type', route.contentType), text));
        void reply.header('content-type', route.contentType).send(body);
        return undefined;
      });
      return route.path;
    },
  };
}
