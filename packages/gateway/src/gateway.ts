import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runProcess } from '@portal/config';
import { jwksVerifier } from '@portal/http';
import { createLogger, metrics } from '@portal/observability';
import type { Logger } from '@portal/observability';
import { resolverFor } from './discovery.resolver.js';
import { SERVICE_NAMES, gatewayConfig } from './gateway.config.js';
import { GatewayMetrics } from './gateway.metrics.js';
import type { GatewayConfig, ServiceName } from './gateway.config.js';
import { portalPlugin } from './gateway.plugin.js';
import { pipelineDispatch } from './pipeline.dispatch.js';
import { sendProblem } from './problem.js';
import { EXPECTS_CONTINUE } from './proxy.policy.js';
import type { EgGatewayConfig, PolicyRegistry } from './pipeline.dispatch.js';
import type { Plugin, PluginContext } from './gateway.plugin.js';
import { RateLimiter } from './rate.limiter.js';
import { UpstreamService } from './upstream.pool.js';

const require = createRequire(import.meta.url);
/** gateway.config.yml (the routes), system.config.yml, and the models/ folder express-gateway insists on. */
const CONFIG_DIR = fileURLToPath(new URL('../config', import.meta.url));

export interface Gateway {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly adminUrl: string;
  /** Where GET /metrics answers: a port of its own, never the public one. */
  readonly metricsUrl: string;
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly services: ReadonlyMap<ServiceName, UpstreamService>;
  /** Stops taking connections, lets requests in flight finish, closes upstream pools. */
  close(): Promise<void>;
}

interface LoadedPlugins {
  policies: unknown[];
  conditions: unknown[];
  gatewayRoutes: unknown[];
  adminRoutes: unknown[];
  cliExtensions: unknown[];
}

/** Runs a plugin's init against its own registrations, as express-gateway's loader does, and adds them to `into`. */
function addPlugin(into: LoadedPlugins, plugin: Plugin): LoadedPlugins {
  const context: PluginContext = {
    registerPolicy: (policy) => into.policies.push(policy),
    registerGatewayRoute: (declare) => into.gatewayRoutes.push(declare),
    registerAdminRoute: (declare) => into.adminRoutes.push(declare),
  };
  plugin.init(context);
  return into;
}

const urlOf = (server: Server, host: string) => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
};

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

/**
 * Starts express-gateway with our plugin. express-gateway loads plugins by
 * require path, which cannot hand them this process's checked settings, and
 * keeps its config in a process-wide singleton; so this starts its two servers
 * the way its own run() does, with our plugin added, once per process.
 */
export async function startGateway(env: Record<string, string | undefined> = process.env): Promise<Gateway> {
  const config = gatewayConfig(env);
  const logger = createLogger('gateway', { level: config.logLevel });
  const services = new Map<ServiceName, UpstreamService>(
    SERVICE_NAMES.map((name) => [
      name,
      new UpstreamService(name, resolverFor(config.discovery[name], config.dnsServers), config.upstream, logger.child({ component: 'upstreams' })),
    ]),
  );
  const refreshAll = () => Promise.all([...services.values()].map((s) => s.refresh()));
  await refreshAll();
  const discovery = setInterval(() => void refreshAll(), config.discoveryIntervalMs);
  const limiter = new RateLimiter(config.rateLimit);
  metrics().nameService('gateway');
  const gatewayMetrics = new GatewayMetrics(metrics(), services);
  const stopSampling = metrics().onScrape(() => gatewayMetrics.sample());
  const plugin = portalPlugin({
    services,
    verifier: jwksVerifier(config.jwksUrl),
    limiter,
    trustedProxyHops: config.trustedProxyHops,
    corsOrigins: config.corsOrigins,
    bodyLimitBytes: config.bodyLimitBytes,
    upstreamTimeoutMs: config.upstream.timeoutMs,
    logger,
    metrics: gatewayMetrics,
  });

  // express-gateway reads these once, when its config module is first loaded.
  process.env.EG_CONFIG_DIR = CONFIG_DIR;
  // Instances come and go through discovery; the route table changes with a deploy, not a file watch.
  process.env.EG_DISABLE_CONFIG_WATCH = 'true';
  const egConfig = require('express-gateway/lib/config') as { gatewayConfig: EgGatewayConfig & Record<string, unknown> };
  egConfig.gatewayConfig.http = { port: config.port, hostname: config.host };
  egConfig.gatewayConfig.admin = { port: config.adminPort, host: config.adminHost };
  const loadPlugins = (require('express-gateway/lib/plugins') as { load(o: { config: unknown }): LoadedPlugins }).load;
  const loaded = loadPlugins({ config: egConfig });
  const otherExtensions = loaded.policies.length + loaded.gatewayRoutes.length + loaded.conditions.length;
  const plugins = addPlugin(loaded, plugin);
  const startServer = require('express-gateway/lib/gateway') as (o: { plugins: unknown; config: unknown }) => Promise<{ app: Server }>;
  const startAdmin = require('express-gateway/lib/rest') as (o: { plugins: unknown; config: unknown }) => Promise<Server>;
  const { app: server } = await startServer({ plugins, config: egConfig });
  const admin = await startAdmin({ plugins, config: egConfig });
  const dispatch = pipelineDispatch({
    config: egConfig.gatewayConfig,
    egConfig,
    registry: require('express-gateway/lib/policies') as PolicyRegistry,
    ours: new Set(plugin.policies),
    ownRoutes: plugin.ownRoutes,
    otherExtensions,
    logger,
  });
  // Ahead of express-gateway's app: what the dispatch does not take goes on to it (see pipeline.dispatch.ts).
  const [viaExpressGateway] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!viaExpressGateway) throw new Error('express-gateway started its server without a request handler');
  server.removeAllListeners('request');
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (!dispatch(req, res)) viaExpressGateway(req, res);
  };
  server.on('request', handle);
  // `Expect: 100-continue` (curl and .NET send it with a body): the proxy says "continue" once the
  // policies have let the request through, so a refused request's body is never sent at all.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { [EXPECTS_CONTINUE]?: boolean })[EXPECTS_CONTINUE] = true;
    handle(req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    sendProblem(res, 417, `header.expect: ${JSON.stringify(String(req.headers.expect).slice(0, 100))} is not supported; only "100-continue" is`, { connection: 'close' });
  });
  logger.info('pipelines', dispatch.plan);
  const metricsServer = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '/').split('?', 1)[0] === '/metrics') plugin.metricsRoute(req, res);
    else sendProblem(res, 404, `no route for ${req.method ?? 'GET'} ${(req.url ?? '/').split('?', 1)[0] ?? '/'}; this port serves GET /metrics`);
  });
  await new Promise<void>((resolve, reject) => {
    metricsServer.once('error', reject);
    metricsServer.listen(config.metricsPort, config.host, () => resolve());
  });
  // Longer than any load balancer's idle timeout in front, so it never reuses a connection we just closed.
  server.keepAliveTimeout = 65_000;

  let closing: Promise<void> | undefined;
  return {
    url: urlOf(server, config.host),
    adminUrl: urlOf(admin, config.adminHost),
    metricsUrl: urlOf(metricsServer, config.host),
    config,
    logger,
    services,
    close: () =>
      (closing ??= (async () => {
        clearInterval(discovery);
        stopSampling();
        limiter.close();
        await Promise.all([closeServer(server), closeServer(admin), closeServer(metricsServer)]);
        await Promise.all([...services.values()].map((s) => s.close()));
      })()),
  };
}

/** The app's entry point: starts the gateway, prints one ready line, and shuts down gracefully on SIGTERM or SIGINT. */
export async function runGateway(): Promise<void> {
  await runProcess({
    name: 'gateway',
    start: () => startGateway(),
    log: (gateway) => gateway.logger,
    ready: (gateway, startupMs) => {
      const upstreams = [...gateway.services.values()].map((s) => `${s.name} ${s.snapshot().source} ${s.size}`).join(', ');
      gateway.logger.info('ready', { url: gateway.url, adminUrl: gateway.adminUrl, metricsUrl: gateway.metricsUrl, startupMs });
      process.stderr.write(`gateway ready on ${gateway.url} (${startupMs} ms, admin ${gateway.adminUrl}, metrics ${gateway.metricsUrl}/metrics, upstreams: ${upstreams})\n`);
    },
  });
}
