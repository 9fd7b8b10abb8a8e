import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { z } from 'zod';
import { ConfigError, flag, loadConfig, port, runProcess } from '@portal/config';
import type { EventBus } from '@portal/contracts';
import { DEFAULT_TIMEOUTS, isUnavailable, migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, OutboxRelay, pruneMessaging } from '@portal/event-bus';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { InMemoryEventBus } from '@portal/event-bus/memory';
import { DEFAULT_JWKS_STALE_MAX_MS, HealthModule, createHttpApp, jwksVerifier, openApiDocument } from '@portal/http';
import type { ReadinessCheck, RegisteredRoute } from '@portal/http';
import { createLogger, metrics } from '@portal/observability';
import type { Logger } from '@portal/observability';
import type { DomainContext, DomainDefinition, DomainName } from './domain.js';
import { FAULTS, withFault } from './faults.js';
import { StartingServer, untilReachable } from './startup.js';

export interface HostOptions {
  /** The process's name in logs: a domain's name, or 'monolith'. */
  readonly service: string;
  /**
   * 'service' talks to other services over Kafka when KAFKA_BROKERS is set;
   * 'monolith' always keeps its events in process (it must never join the
   * services' consumer groups).
   */
  readonly shape?: 'service' | 'monolith';
  readonly domains: readonly DomainDefinition[];
  readonly defaultPort: number;
  readonly env?: Record<string, string | undefined>;
}

export interface Host {
  readonly app: NestFastifyApplication;
  /** Where it listens, e.g. http://127.0.0.1:3001. */
  readonly url: string;
  readonly bus: EventBus;
  readonly databases: ReadonlyMap<DomainName, Database>;
  readonly routes: readonly RegisteredRoute[];
  readonly logger: Logger;
  /** Publishes every committed outbox event now (tests, shutdown). */
  flushOutboxes(): Promise<void>;
  /** Runs the retention schedule's work now: what each table no longer needs, deleted; rows deleted per domain. */
  pruneNow(): Promise<Record<string, number>>;
  /** Stops taking requests, finishes in-flight work, flushes outboxes, closes databases. */
  close(): Promise<void>;
}

const databaseVar = (name: DomainName) => `${name.toUpperCase()}_DATABASE_URL`;

/**
 * Request bodies larger than this get 413 unless BODY_LIMIT_BYTES says otherwise.
 * The gateway's default too; room for the largest valid body (an episode of
 * 100,000 characters, several bytes each in UTF-8 or as JSON escapes).
 */
export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);

function hostConfig(options: HostOptions) {
  const env = options.env ?? process.env;
  const single = options.domains.length === 1;
  const urls = Object.fromEntries(options.domains.map((d) => [databaseVar(d.name), z.url().optional()]));
  // Checked with the host's own, so one start-up error names every bad variable.
  const domainSettings: z.ZodRawShape = Object.assign({}, ...options.domains.map((d) => d.settings ?? {}));
  const config = loadConfig(
    {
      ...domainSettings,
      PORT: port(options.defaultPort),
      HOST: z.string().min(1).default('0.0.0.0'),
      DATABASE_URL: z.url().optional(),
      ...urls,
      DATA_DIR: z.string().min(1).optional(),
      // Bounds on every PostgreSQL session (not the embedded databases).
      DB_STATEMENT_TIMEOUT_MS: milliseconds(DEFAULT_TIMEOUTS.statementMs),
      DB_LOCK_TIMEOUT_MS: milliseconds(DEFAULT_TIMEOUTS.lockMs),
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: milliseconds(DEFAULT_TIMEOUTS.idleInTransactionMs),
      DB_CONNECT_TIMEOUT_MS: milliseconds(DEFAULT_TIMEOUTS.connectMs),
      SEED_DEMO_DATA: flag(true),
      LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(DEFAULT_BODY_LIMIT_BYTES),
      AUTH_JWKS_URL: z.url().default('http://localhost:3005/api/auth/.well-known/jwks.json'),
      // How long the last key set fetched keeps verifying tokens while auth's cannot be fetched.
      JWKS_STALE_MAX_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_JWKS_STALE_MAX_MS),
      FAULT_INJECTION: z.enum(FAULTS).optional(),
      // How long start-up waits for PostgreSQL and Kafka to answer before giving up.
      STARTUP_WAIT_SECONDS: z.coerce.number().int().min(0).max(3_600).default(180),
      // Retention (docs/architecture.md, "Events and topics"): what the messaging tables keep, how often they are pruned.
      OUTBOX_RETENTION_HOURS: z.coerce.number().min(0.001).max(8_760).default(24),
      INBOX_RETENTION_DAYS: z.coerce.number().min(0.001).max(3_650).default(14),
      RETENTION_INTERVAL_MINUTES: z.coerce.number().min(0.01).max(1_440).default(60),
      ...(options.shape === 'monolith'
        ? {}
        : {
            KAFKA_BROKERS: z
              .string()
              .regex(/^[^\s:,]+:\d+(,[^\s:,]+:\d+)*$/, { error: 'expected host:port[,host:port...]' })
              .optional(),
            KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1_000).default(3),
            KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),
          }),
    },
    env,
  );
  if (!single && config.DATABASE_URL) {
    throw new ConfigError(
      `Invalid configuration:\n  DATABASE_URL: ${options.service} hosts ${options.domains.length} modules and each keeps its own database; ` +
        `set ${options.domains.map((d) => databaseVar(d.name)).join(', ')} instead (unset ones are embedded)`,
    );
  }
  const databaseUrl = (name: DomainName): string | undefined =>
    (config as Record<string, unknown>)[databaseVar(name)] as string | undefined ?? (single ? config.DATABASE_URL : undefined);
  return { ...config, databaseUrl };
}

/** Serves a domain's OpenAPI document at /api/<name>/openapi.json. */
function openApiModule(domain: DomainDefinition): DynamicModule {
  const document = openApiDocument(domain.api.info, domain.api.routes);
  @Controller(`api/${domain.name}`)
  class OpenApiController {
    @Get('openapi.json')
    get() {
      return document;
    }
  }
  @Module({ controllers: [OpenApiController] })
  class OpenApiModule {}
  return { module: OpenApiModule };
}

/** Builds and starts a host; it listens when this resolves. */
export async function startHost(options: HostOptions): Promise<Host> {
  const config = hostConfig(options);
  const logger = createLogger(options.service, { level: config.LOG_LEVEL });
  // One host per process in production; a test that starts several in one process sees the last name.
  metrics().nameService(options.service);
  const databases = new Map<DomainName, Database>();
  const closeDatabases = async () => void (await Promise.all([...databases.values()].map((db) => db.close())));
  const brokers = (config as { KAFKA_BROKERS?: string }).KAFKA_BROKERS?.split(',');
  // Only where something is awaited over the network and the port is fixed
  // (probes need one); PORT=0 (tests) has no probes to answer.
  const awaitsServers = brokers !== undefined || options.domains.some((d) => config.databaseUrl(d.name));
  const starting = awaitsServers && config.PORT !== 0 ? await StartingServer.listen(config.PORT, config.HOST) : undefined;
  const wait = {
    logger,
    boundMs: config.STARTUP_WAIT_SECONDS * 1000,
    onWaiting: (what: string, reason: string) => starting?.set(what, reason),
  };
  try {
    for (const domain of options.domains) {
      const url = config.databaseUrl(domain.name);
      const database = await openDatabase({
        url,
        dataDir: url ? undefined : config.DATA_DIR && `${config.DATA_DIR}/${domain.name}`,
        timeouts: {
          statementMs: config.DB_STATEMENT_TIMEOUT_MS,
          lockMs: config.DB_LOCK_TIMEOUT_MS,
          idleInTransactionMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
          connectMs: config.DB_CONNECT_TIMEOUT_MS,
        },
        onConnectionLost: (error) => logger.warn('database connection lost', { domain: domain.name, error: error.message }),
      });
      databases.set(domain.name, database);
      // Every domain's database has the outbox and inbox, so one relay and one
      // once-only mechanism serve all of them.
      const migrations = domain.migrations.some((m) => m.id === MESSAGING_MIGRATION.id)
        ? domain.migrations
        : [MESSAGING_MIGRATION, ...domain.migrations];
      const where = url ? `PostgreSQL (${domain.name} database at ${new URL(url).host})` : `${domain.name} database`;
      const applied = await untilReachable(where, { ...wait, transient: isUnavailable }, () => migrate(database, migrations));
      if (applied.length > 0) logger.info('migrations applied', { domain: domain.name, applied });
    }
  } catch (error) {
    await closeDatabases();
    await starting?.close();
    throw error;
  }

  const kafka = brokers
    ? new KafkaEventBus({
        brokers,
        clientId: options.service,
        logger: logger.child({ component: 'event-bus' }),
        partitions: (config as { KAFKA_TOPIC_PARTITIONS?: number }).KAFKA_TOPIC_PARTITIONS,
        replicationFactor: (config as { KAFKA_REPLICATION_FACTOR?: number }).KAFKA_REPLICATION_FACTOR,
      })
    : undefined;
  if (!kafka && options.shape !== 'monolith') {
    logger.warn('KAFKA_BROKERS is not set: events stay inside this process and reach no other service');
  }
  const bus: EventBus = kafka ?? new InMemoryEventBus({ logger });
  if (config.FAULT_INJECTION) logger.warn('FAULT_INJECTION is set: this process will crash on purpose (see faults.ts)', { fault: config.FAULT_INJECTION });
  const relayBus = config.FAULT_INJECTION ? withFault(bus, config.FAULT_INJECTION, logger) : bus;
  const issuer = options.domains.find((d) => d.localVerifier);
  const verifier = issuer?.localVerifier
    ? await issuer.localVerifier(databases.get(issuer.name) as Database)
    : jwksVerifier(config.AUTH_JWKS_URL, { staleMaxMs: config.JWKS_STALE_MAX_MS });
  const relays = new Map<DomainName, OutboxRelay>();
  const modules: DynamicModule[] = [];
  const checks: Record<string, ReadinessCheck> = {};
  for (const domain of options.domains) {
    const database = databases.get(domain.name) as Database;
    const relay = new OutboxRelay(database, relayBus, { logger: logger.child({ domain: domain.name, component: 'outbox-relay' }) });
    relays.set(domain.name, relay);
    const context: DomainContext = {
      database,
      bus,
      outbox: relay,
      verifier,
      logger: logger.child({ domain: domain.name }),
      seedDemoData: config.SEED_DEMO_DATA,
      settings: Object.fromEntries(Object.keys(domain.settings ?? {}).map((key) => [key, (config as Record<string, unknown>)[key]])),
    };
    modules.push(domain.module(context), openApiModule(domain));
    checks[`${domain.name}-database`] = async () => void (await database.query('SELECT 1'));
  }
  // Not a readiness check: without the broker an instance still serves its
  // reads and writes (the outbox keeps their events until Kafka is back), and
  // taking every pod out of its Service would take auth's key set with it.
  const optional: Record<string, ReadinessCheck> = kafka
    ? {
        kafka: () => kafka.ping(),
        // Partitions held by an event waiting for its database: why consumer lag grows.
        consumers: async () => {
          const stalls = kafka.stalls();
          if (stalls.length > 0) {
            throw new Error(stalls.map((s) => `${s.group} ${s.topic}/${s.partition} at ${s.offset} waits since ${s.since.toISOString()}: ${s.error}`).join('; '));
          }
        },
      }
    : {};
  // Sampled when Prometheus scrapes (every 15 s or so): one count over the
  // outbox's pending index per module, which is cheaper than a timer that
  // runs whether anybody looks or not, and never older than the scrape.
  const backlog = metrics().gauge('portal_outbox_backlog');
  const oldest = metrics().gauge('portal_outbox_oldest_age_seconds');
  const stopSampling = metrics().onScrape(async () => {
    await Promise.all(
      [...relays].map(async ([module, relay]) => {
        const { events, oldestAgeSeconds } = await relay.backlog();
        backlog.set({ module }, events);
        oldest.set({ module }, oldestAgeSeconds);
      }),
    );
  });

  @Module({ imports: [HealthModule.register(checks, optional), ...modules] })
  class HostModule {}

  const { app, routes } = await createHttpApp(HostModule, {
    logger,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    unavailable: (error) => (isUnavailable(error) ? 'database unavailable' : undefined),
  });
  try {
    // kafkajs retries on its own for a while, then gives up; this keeps trying within the bound.
    await (kafka ? untilReachable(`Kafka (${brokers?.join(', ')})`, wait, () => bus.start()) : bus.start());
  } catch (error) {
    await app.close();
    await closeDatabases();
    await starting?.close();
    throw error;
  }
  for (const relay of relays.values()) relay.start();
  // Retention: without it the outbox gains a row per event for good (views
  // alone, one per episode per replica per second), the inbox one per event
  // per group, payment an idempotency key per request. Every replica prunes;
  // the deletes are idempotent, so that costs a few empty statements.
  const retention = { outboxMs: config.OUTBOX_RETENTION_HOURS * 3_600_000, inboxMs: config.INBOX_RETENTION_DAYS * 86_400_000 };
  const pruneNow = async (): Promise<Record<string, number>> => {
    const deleted: Record<string, number> = {};
    for (const domain of options.domains) {
      const database = databases.get(domain.name) as Database;
      const { outbox, inbox } = await pruneMessaging(database, retention);
      const own = domain.prune ? await domain.prune(database, Object.fromEntries(Object.keys(domain.settings ?? {}).map((key) => [key, (config as Record<string, unknown>)[key]]))) : 0;
      deleted[domain.name] = outbox + inbox + own;
      if (outbox + inbox + own > 0) logger.info('pruned', { domain: domain.name, outbox, inbox, own });
    }
    return deleted;
  };
  let pruning: Promise<unknown> | undefined;
  const pruneTimer = setInterval(() => {
    pruning ??= pruneNow()
      .catch((error: unknown) => logger.warn('pruning failed; will try again', { error }))
      .finally(() => (pruning = undefined));
  }, config.RETENTION_INTERVAL_MINUTES * 60_000);
  pruneTimer.unref();
  await starting?.close();
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.getHttpServer().address();
  const boundPort = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${boundPort}`;

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    bus,
    databases,
    routes,
    logger,
    flushOutboxes: async () => void (await Promise.all([...relays.values()].map((r) => r.flush()))),
    pruneNow,
    close: () =>
      (closing ??= (async () => {
        clearInterval(pruneTimer);
        await pruning;
        await closeHttp(app);
        stopSampling();
        for (const relay of relays.values()) await relay.stop().catch((error: unknown) => logger.warn('outbox not flushed', { error }));
        await bus.stop();
        await closeDatabases();
      })()),
  };
}

/**
 * Stops taking requests and resolves once those in flight are answered. Node
 * closes idle keep-alive connections once, when closing begins; a connection
 * whose request was in flight then goes idle after its answer and would hold
 * the close open until its keep-alive timeout (72 s, well past the process's
 * shutdown bound). So idle connections are closed again until it is done.
 */
async function closeHttp(app: NestFastifyApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  const reap = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(reap);
  }
}

/**
 * The entry point of an app: starts the host, prints one ready line, and
 * shuts down gracefully on SIGTERM or SIGINT within a bound.
 */
export async function runHost(options: HostOptions): Promise<void> {
  await runProcess({
    name: options.service,
    start: () => startHost(options),
    log: (host) => host.logger,
    ready: (host, startupMs) => {
      const kinds = [...host.databases.values()].map((db) => db.kind);
      const bus = host.bus instanceof KafkaEventBus ? 'kafka' : 'in-process';
      const storage = kinds.every((k) => k === 'embedded') ? 'embedded' : kinds.every((k) => k === 'postgres') ? 'postgres' : 'mixed';
      host.logger.info('ready', { url: host.url, startupMs, databases: storage, bus, domains: options.domains.map((d) => d.name) });
      process.stderr.write(`${options.service} ready on ${host.url} (${startupMs} ms, databases: ${storage}, bus: ${bus})\n`);
    },
  });
}
