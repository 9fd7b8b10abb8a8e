import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Logger } from '@portal/observability';
import type { Middleware } from './edge.policies.js';
import { deferHeaders, sendProblem } from './problem.js';

const require = createRequire(import.meta.url);

/** The parts of express-gateway's gateway.config.yml a pipeline is built from (after its own schema check). */
interface EndpointConfig {
  readonly host?: string;
  readonly hostRegex?: string;
  readonly paths?: string | readonly string[];
  readonly path?: string;
  readonly pathRegex?: string;
  readonly methods?: string | readonly string[];
}
interface PolicyStep {
  readonly action?: Record<string, unknown>;
  readonly condition?: unknown;
}
interface PipelineConfig {
  readonly apiEndpoints?: string | readonly string[];
  readonly apiEndpoint?: string;
  readonly policies?: readonly Record<string, PolicyStep | readonly PolicyStep[] | null | undefined>[];
}
export interface EgGatewayConfig {
  readonly apiEndpoints?: Record<string, EndpointConfig | readonly EndpointConfig[]>;
  readonly pipelines?: Record<string, PipelineConfig>;
}

/** express-gateway's policy registry: each policy as registered, its action checked against its schema. */
export interface PolicyRegistry {
  resolve(name: string): { policy(action: Record<string, unknown>, config: unknown): Middleware };
}

/** Express's own path matcher, so a path matches here exactly when it would match in express-gateway. */
interface ExpressLayer {
  match(path: string): boolean;
}
type LayerClass = new (path: string, options: { sensitive: boolean; strict: boolean; end: boolean }, fn: () => void) => ExpressLayer;

interface Route {
  /** Lowercased, what every path it matches starts with: most routes are ruled out without their regex. */
  readonly prefix: string;
  readonly layer: ExpressLayer;
  /** The pipeline's policies in order; undefined: the pipeline stays with express-gateway. */
  readonly chain: readonly Middleware[] | undefined;
}

export interface Dispatch {
  /** Takes the request and returns true, or returns false and leaves it to express-gateway. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Which apiEndpoints run here, and which stay with express-gateway and why. */
  readonly plan: { readonly direct: readonly string[]; readonly express: Readonly<Record<string, string>> };
}

const asList = <T>(value: T | readonly T[] | undefined | null): readonly T[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/** The part of an Express path before its first parameter, wildcard or group, lowercased. */
const literalPrefix = (path: string): string => (path.split(/[*:(?+]/, 1)[0] ?? '').toLowerCase();

/** The request path without its query, as Express's parseurl gives it to the router. */
const pathOf = (url: string | undefined): string => {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

/**
 * Runs the pipelines made only of our own policies straight from Node's
 * request event, built from the same gateway.config.yml by express-gateway's
 * own policy registry (so the same schema checks and the same order).
 *
 * Why: express-gateway dispatches each request through an Express app
 * (request and response prototypes swapped, query parsed, passport
 * initialised), a router over every apiEndpoint path, a context object with a
 * fresh base-62 UUID, and an Express router per pipeline. Profiled, that cost
 * more CPU than the proxying itself and capped the gateway at ~0.3 x nginx
 * (docs/architecture.md, "Performance"). Our policies take Node's request and
 * response and need none of it.
 *
 * The rest stays with express-gateway, unchanged: a pipeline with a condition
 * or a policy not ours, endpoints bound to hosts or methods or a regex (then
 * every endpoint, since their order across hosts is express-gateway's), the
 * routes our plugin registers (/health/*), and requests no endpoint
 * here matches. Endpoints are tried in the config's order and the first match
 * decides, as in express-gateway, so a request is never routed differently.
 */
export interface DispatchOptions {
  /** gateway.config.yml as express-gateway loaded it. */
  readonly config: EgGatewayConfig & { readonly policies?: readonly string[] };
  /** What express-gateway's policy factories are called with besides the action. */
  readonly egConfig: unknown;
  readonly registry: PolicyRegistry;
  /** Our policies' names: they take Node's request and response. */
  readonly ours: ReadonlySet<string>;
  /** Paths of routes registered on the gateway's app ahead of the pipelines (ours: /health/*); they keep precedence. */
  readonly ownRoutes: readonly string[];
  /** Policies, routes and conditions of other plugins express-gateway loaded: unknown here, so if any, nothing runs here. */
  readonly otherExtensions: number;
  readonly logger: Logger;
}

export function pipelineDispatch({ config, egConfig, registry, ours, ownRoutes, otherExtensions, logger }: DispatchOptions): Dispatch {
  const Layer = require('express/lib/router/layer') as LayerClass;
  const exact = (path: string) => new Layer(path, { sensitive: false, strict: false, end: true }, () => undefined);
  const endpoints = config.apiEndpoints ?? {};
  const express: Record<string, string> = {};
  const direct: string[] = [];
  const routes: Route[] = [];
  const reserved = ownRoutes.map((path) => ({ prefix: literalPrefix(path), layer: exact(path) }));

  const unsupported = [
    ...(otherExtensions > 0 ? [`other plugins are loaded`] : []),
    // An express-gateway policy may register routes of its own on the app (oauth2 does).
    ...(config.policies ?? []).filter((name) => !ours.has(name)).map((name) => `policy ${name} is not ours`),
  ];
  unsupported.push(...Object.entries(endpoints).flatMap(([name, value]) =>
    asList(value).flatMap((endpoint) => {
      if ((endpoint.host !== undefined && endpoint.host !== '*') || endpoint.hostRegex !== undefined) return [`${name}: bound to a host`];
      if (endpoint.methods !== undefined && endpoint.methods !== '*') return [`${name}: bound to methods`];
      if (endpoint.pathRegex !== undefined) return [`${name}: a path regex`];
      return [];
    }),
  ));

  const pipelineOf = new Map<string, PipelineConfig>();
  for (const pipeline of Object.values(config.pipelines ?? {})) {
    for (const endpoint of [...asList(pipeline.apiEndpoints), ...asList(pipeline.apiEndpoint)]) pipelineOf.set(endpoint, pipeline);
  }

  const chainOf = (pipeline: PipelineConfig | undefined): { chain?: Middleware[]; why?: string } => {
    if (!pipeline) return { why: 'no pipeline' };
    const chain: Middleware[] = [];
    for (const entry of asList(pipeline.policies)) {
      const name = Object.keys(entry)[0] ?? '';
      if (!ours.has(name)) return { why: `policy ${name} is not ours` };
      const steps = asList(entry[name]);
      for (const step of steps.length === 0 ? [{}] : steps) {
        if (step.condition !== undefined) return { why: `policy ${name} has a condition` };
        chain.push(registry.resolve(name).policy({ ...step.action }, egConfig));
      }
    }
    return { chain };
  };

  for (const [name, value] of Object.entries(endpoints)) {
    const built = unsupported.length > 0 ? { why: unsupported.join('; ') } : chainOf(pipelineOf.get(name));
    if (built.chain) direct.push(name);
    else express[name] = built.why ?? 'unknown';
    for (const endpoint of asList(value)) {
      const paths = asList(endpoint.paths ?? endpoint.path);
      for (const path of paths.length === 0 ? ['*'] : paths) {
        // Express's router.all(path): case-insensitive, a trailing slash allowed, the whole path.
        routes.push({ prefix: literalPrefix(path), layer: exact(path), chain: built.chain });
      }
    }
  }

  const run = (chain: readonly Middleware[], req: IncomingMessage, res: ServerResponse) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return fail(error);
      const step = chain[index++];
      // A pipeline whose policies all passed the request on: nothing answered it.
      if (!step) return sendProblem(res, 404, `no route for ${req.method ?? 'GET'} ${pathOf(req.url)}`);
      try {
        step(req, res, next);
      } catch (thrown) {
        fail(thrown);
      }
    };
    const fail = (error: unknown) => {
      logger.error('policy failed', { method: req.method, path: pathOf(req.url), error });
      sendProblem(res, 500, 'the gateway failed to handle this request');
    };
    // Every answer here is written by our code, which adds what the policies deferred.
    deferHeaders(res);
    next();
  };

  const dispatch = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = pathOf(req.url);
    // Express matches case-insensitively; the regex still decides, the prefix only skips routes that cannot match.
    const lower = path.toLowerCase();
    try {
      for (const own of reserved) if (lower.startsWith(own.prefix) && own.layer.match(path)) return false;
      for (const route of routes) {
        if (!lower.startsWith(route.prefix) || !route.layer.match(path)) continue;
        if (!route.chain) return false;
        run(route.chain, req, res);
        return true;
      }
    } catch {
      // A path Express cannot decode (a bad %-escape): express-gateway answers it as it always has.
    }
    return false;
  };
  return Object.assign(dispatch, { plan: { direct, express } });
}
