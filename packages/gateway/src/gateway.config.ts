import { z } from 'zod';
import { ConfigError, loadConfig, port } from '@portal/config';

/** Every service behind the gateway, with the port it listens on by default (see docs/architecture.md). */
export const SERVICES = { auth: 3005, news: 3001, blog: 3002, webtoon: 3003, payment: 3004, analytics: 3006 } as const;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** Where a service's instances come from: a fixed list, or a DNS name whose A records are its instances. */
export type Discovery =
  | { readonly kind: 'static'; readonly urls: readonly string[] }
  | { readonly kind: 'dns'; readonly hostname: string; readonly port: number };

const urlList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''))).min(1))
  .optional();
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'expected hostname:port, e.g. webtoon:3003' })
  .optional();
const ms = (fallback: number, min = 1) => z.coerce.number().int().min(min).max(3_600_000).default(fallback);

const fixed = {
  PORT: port(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  // The admin API (express-gateway's, plus GET /upstreams) stays on loopback unless asked otherwise.
  ADMIN_PORT: port(9876),
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  // GET /metrics, on HOST: apart from the public port so that only what may scrape it (a NetworkPolicy says who) reaches it.
  METRICS_PORT: port(9464),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  AUTH_JWKS_URL: z.url().default('http://localhost:3005/api/auth/.well-known/jwks.json'),
  CORS_ORIGINS: z.string().min(1).default('*'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(104_857_600).default(1_048_576),
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0.1).max(10_000_000).default(100),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(10_000_000).default(200),
  // Proxies in front that append the address they received from to X-Forwarded-For (the Ingress: 1). 0: the TCP peer is the client.
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  UPSTREAM_TIMEOUT_MS: ms(10_000),
  UPSTREAM_CONNECT_TIMEOUT_MS: ms(2_000),
  UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(128),
  EJECT_MS: ms(5_000),
  EJECT_AFTER_5XX: z.coerce.number().int().min(1).max(1_000).default(3),
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  BREAKER_OPEN_MS: ms(5_000),
  DISCOVERY_INTERVAL_MS: ms(2_000, 50),
  DNS_SERVERS: z
    .string()
    .regex(/^[^\s,]+(,[^\s,]+)*$/, { error: 'expected ip[:port][,ip[:port]...]' })
    .optional(),
};
const perService = Object.fromEntries(
  SERVICE_NAMES.flatMap((name) => [[`${name.toUpperCase()}_URLS`, urlList], [`${name.toUpperCase()}_DNS`, hostPort]]),
) as Record<string, typeof urlList | typeof hostPort>;

export type GatewayConfig = ReturnType<typeof gatewayConfig>;

/** The gateway's settings, read once from `env` and checked; a bad one throws a ConfigError naming it. */
export function gatewayConfig(env: Record<string, string | undefined> = process.env) {
  // One call, so every bad variable is reported at once, fixed and per-service alike.
  const config = loadConfig({ ...fixed, ...perService }, env) as z.infer<z.ZodObject<typeof fixed>>;
  const raw = config as Record<string, unknown>;
  const discovery = {} as Record<ServiceName, Discovery>;
  for (const name of SERVICE_NAMES) {
    const key = name.toUpperCase();
    const urls = raw[`${key}_URLS`] as string[] | undefined;
    const dns = raw[`${key}_DNS`] as string | undefined;
    if (urls && dns) throw new ConfigError(`Invalid configuration:\n  ${key}_URLS, ${key}_DNS: set one of them, not both`);
    if (dns) {
      const [hostname = '', portText = ''] = dns.split(':');
      discovery[name] = { kind: 'dns', hostname, port: Number(portText) };
    } else {
      discovery[name] = { kind: 'static', urls: urls ?? [`http://127.0.0.1:${SERVICES[name]}`] };
    }
  }
  return {
    port: config.PORT,
    host: config.HOST,
    adminPort: config.ADMIN_PORT,
    adminHost: config.ADMIN_HOST,
    metricsPort: config.METRICS_PORT,
    logLevel: config.LOG_LEVEL,
    jwksUrl: config.AUTH_JWKS_URL,
    corsOrigins: config.CORS_ORIGINS === '*' ? ('*' as const) : config.CORS_ORIGINS.split(',').map((s) => s.trim()),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    rateLimit: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
    trustedProxyHops: config.TRUSTED_PROXY_HOPS,
    upstream: {
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
      connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
      connections: config.UPSTREAM_CONNECTIONS,
      ejectMs: config.EJECT_MS,
      ejectAfter5xx: config.EJECT_AFTER_5XX,
      breakerFailures: config.BREAKER_FAILURES,
      breakerOpenMs: config.BREAKER_OPEN_MS,
    },
    discoveryIntervalMs: config.DISCOVERY_INTERVAL_MS,
    dnsServers: config.DNS_SERVERS?.split(','),
    discovery,
  };
}
