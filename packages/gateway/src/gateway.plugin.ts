import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '@portal/http';
import type { Logger } from '@portal/observability';
import { authPolicy, bodyLimitPolicy, corsPolicy, notFoundPolicy, rateLimitPolicy, requestIdPolicy } from './edge.policies.js';
import type { AuthRule, Middleware } from './edge.policies.js';
import type { ServiceName } from './gateway.config.js';
import type { GatewayMetrics } from './gateway.metrics.js';
import { forward } from './proxy.policy.js';
import type { RateLimiter } from './rate.limiter.js';
import type { UpstreamService } from './upstream.pool.js';

/** The slice of express-gateway's plugin interface (its index.d.ts) we use. */
export interface Policy {
  readonly name: string;
  readonly schema: { $id: string; [key: string]: unknown };
  policy(action: Record<string, unknown>): Middleware;
}
type Route = (req: IncomingMessage, res: ServerResponse) => void;
export interface ExpressLike {
  get(path: string, handler: Route): void;
}
export interface PluginContext {
  registerPolicy(policy: Policy): void;
  registerGatewayRoute(declare: (app: ExpressLike) => void): void;
  registerAdminRoute(declare: (app: ExpressLike) => void): void;
}
export interface Plugin {
  readonly version: string;
  readonly policies: readonly string[];
  init(context: PluginContext): void;
}
export interface PortalPlugin extends Plugin {
  /** The paths of the routes it serves itself on the gateway's port (ahead of every pipeline). */
  readonly ownRoutes: readonly string[];
  /** GET /metrics, for the internal metrics port only (gateway.ts): the public port answers 404 there. */
  readonly metricsRoute: Route;
}

/** What the policies work with, built once from the checked settings. */
export interface GatewayState {
  readonly services: ReadonlyMap<ServiceName, UpstreamService>;
  readonly verifier: TokenVerifier;
  readonly limiter: RateLimiter;
  /** Proxies in front whose X-Forwarded-For entries are believed (TRUSTED_PROXY_HOPS). */
  readonly trustedProxyHops: number;
  readonly corsOrigins: '*' | readonly string[];
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const schema = (name: string, properties: Record<string, unknown> = {}, required: string[] = []) => ({
  $id: `https://portal.example/schemas/policies/${name}.json`,
  type: 'object',
  properties,
  required,
});

/** Our express-gateway plugin: the portal's policies, health routes, and the admin listing of upstreams. */
export function portalPlugin(state: GatewayState): PortalPlugin {
  const policies: Policy[] = [
    {
      // First in every pipeline, so it also times and counts each request under the pipeline's route.
      name: 'portal-request-id',
      schema: schema('portal-request-id', { route: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' } }, ['route']),
      policy: (action) => {
        const measure = state.metrics.measure(action.route as string);
        const assignId = requestIdPolicy();
        return (req, res, next) => {
          measure(req, res);
          assignId(req, res, next);
        };
      },
    },
    { name: 'portal-cors', schema: schema('portal-cors'), policy: () => corsPolicy(state.corsOrigins) },
    { name: 'portal-rate-limit', schema: schema('portal-rate-limit'), policy: () => rateLimitPolicy(state.limiter, state.trustedProxyHops) },
    { name: 'portal-body-limit', schema: schema('portal-body-limit'), policy: () => bodyLimitPolicy(state.bodyLimitBytes) },
    {
      name: 'portal-auth',
      schema: schema(
        'portal-auth',
        { require: { type: 'string', enum: ['always', 'writes'] }, open: { type: 'array', items: { type: 'string', pattern: '^[A-Z]+ /' } } },
        ['require'],
      ),
      policy: (action) => authPolicy(state.verifier, { require: action.require as AuthRule['require'], open: action.open as string[] | undefined }),
    },
    {
      name: 'portal-proxy',
      schema: schema('portal-proxy', { service: { type: 'string', enum: [...state.services.keys()] } }, ['service']),
      policy: (action) => {
        const service = state.services.get(action.service as ServiceName) as UpstreamService;
        const options = { timeoutMs: state.upstreamTimeoutMs, logger: state.logger, metrics: state.metrics };
        return (req, res) => forward(req, res, service, options);
      },
    },
    { name: 'portal-not-found', schema: schema('portal-not-found'), policy: () => notFoundPolicy() },
  ];
  // Not counted as traffic. Served on its own port, which no Service or Ingress exposes: the numbers say
  // which instances fail and how often, which is no business of the public.
  const metricsRoute: Route = (_req, res) => {
    state.metrics.exposition().then(
      ({ contentType, text }) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      (error: unknown) => {
        state.logger.error('metrics exposition failed', { error });
        json(res, 500, { status: 'error' });
      },
    );
  };
  const ownRoutes: Record<string, Route> = {
    // The gateway's own liveness: it answers. Upstreams' health is /upstreams on the admin port.
    '/health/live': (_req, res) => json(res, 200, { status: 'ok' }),
    '/health/ready': (_req, res) => json(res, 200, { status: 'ok' }),
  };
  return {
    version: '1.2.0',
    policies: policies.map((p) => p.name),
    ownRoutes: Object.keys(ownRoutes),
    metricsRoute,
    init(context) {
      for (const policy of policies) context.registerPolicy(policy);
      context.registerGatewayRoute((app) => {
        for (const [path, route] of Object.entries(ownRoutes)) app.get(path, route);
      });
      context.registerAdminRoute((app) => {
        app.get('/upstreams', (_req, res) => json(res, 200, { services: [...state.services.values()].map((s) => s.snapshot()) }));
      });
    },
  };
}
