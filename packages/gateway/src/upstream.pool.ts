import { Pool } from 'undici';
import type { Logger } from '@portal/observability';
import { CircuitBreaker } from './circuit.breaker.js';
import type { BreakerState } from './circuit.breaker.js';
import type { InstanceResolver } from './discovery.resolver.js';

export type InstanceState = 'up' | 'ejected' | 'probing';

export interface UpstreamOptions {
  /** Keep-alive connections per instance at most. */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** How long an instance that failed stays out of rotation. */
  readonly ejectMs: number;
  /** Consecutive 5xx answers that eject an instance (a refused connection ejects at once). */
  readonly ejectAfter5xx: number;
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;
}

/** One live address of a service, with its own keep-alive connection pool. */
export class Instance {
  state: InstanceState = 'up';
  ejectedUntil = 0;
  requests = 0;
  failures = 0;
  consecutive5xx = 0;
  lastError: string | undefined;
  readonly dispatcher: Pool;

  constructor(
    readonly url: string,
    options: UpstreamOptions,
  ) {
    this.dispatcher = new Pool(url, {
      connections: options.connections,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs },
      keepAliveTimeout: 30_000,
    });
  }
}

export interface InstanceSnapshot {
  readonly url: string;
  readonly state: InstanceState;
  readonly requests: number;
  readonly failures: number;
  readonly ejectedForMs?: number;
  readonly lastError?: string;
}

export interface ServiceSnapshot {
  readonly service: string;
  readonly source: string;
  readonly breaker: BreakerState;
  readonly lastResolveError?: string;
  readonly instances: readonly InstanceSnapshot[];
}

/**
 * A service's instances as discovery last reported them, chosen round-robin
 * among those in rotation. Passive health: an instance that refuses
 * connections or keeps answering 5xx leaves the rotation for a cool-down, then
 * gets live traffic again (probing) and is back up at its first good answer.
 */
export class UpstreamService {
  readonly breaker: CircuitBreaker;
  #instances = new Map<string, Instance>();
  #order: Instance[] = [];
  #next = 0;
  #lastResolveError: string | undefined;

  constructor(
    readonly name: string,
    private readonly resolver: InstanceResolver,
    private readonly options: UpstreamOptions,
    private readonly logger: Logger,
  ) {
    this.breaker = new CircuitBreaker({ failures: options.breakerFailures, openMs: options.breakerOpenMs });
  }

  /** Asks discovery again; new instances join the rotation, vanished ones leave it (their connections close). */
  async refresh(): Promise<void> {
    let urls: readonly string[];
    try {
      urls = await this.resolver.resolve();
      this.#lastResolveError = undefined;
    } catch (error) {
      // Keep the last known instances: a DNS hiccup must not take a healthy service away.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.#lastResolveError) this.logger.warn('discovery failed; keeping the last instances', { upstream: this.name, error: message });
      this.#lastResolveError = message;
      return;
    }
    const wanted = new Set(urls);
    for (const [url, instance] of this.#instances) {
      if (wanted.has(url)) continue;
      this.#instances.delete(url);
      this.logger.info('instance left', { upstream: this.name, instance: url });
      void instance.dispatcher.close().catch(() => undefined);
    }
    for (const url of urls) {
      if (this.#instances.has(url)) continue;
      this.#instances.set(url, new Instance(url, this.options));
      this.logger.info('instance joined', { upstream: this.name, instance: url });
    }
    this.#order = [...this.#instances.values()];
  }

  /** Instances known, in or out of rotation. */
  get size(): number {
    return this.#order.length;
  }

  /** The next instance in rotation, skipping `except` (a retry's first choice); undefined when none is. */
  pick(except?: Instance, now = Date.now()): Instance | undefined {
    const order = this.#order;
    for (let i = 0; i < order.length; i++) {
      const instance = order[(this.#next + i) % order.length] as Instance;
      if (instance === except) continue;
      if (instance.state === 'ejected') {
        if (now < instance.ejectedUntil) continue;
        instance.state = 'probing';
      }
      this.#next = (this.#next + i + 1) % order.length;
      return instance;
    }
    return undefined;
  }

  /**
   * The instance answered with `status`. Only 502 to 504 count against it:
   * they say the instance (or what it depends on) is unwell, or shutting down,
   * while a 500 is a bug in one request that another instance would repeat.
   */
  answered(instance: Instance, status: number): void {
    instance.requests += 1;
    if (status < 502 || status > 504) {
      instance.consecutive5xx = 0;
      if (instance.state === 'probing') this.#reinstate(instance);
      return;
    }
    instance.failures += 1;
    instance.consecutive5xx += 1;
    instance.lastError = `answered ${status}`;
    if (instance.state === 'probing' || instance.consecutive5xx >= this.options.ejectAfter5xx) this.#eject(instance);
  }

  /** The instance could not be reached, or did not answer in time: out of rotation at once. */
  failed(instance: Instance, reason: string): void {
    instance.requests += 1;
    instance.failures += 1;
    instance.lastError = reason;
    this.#eject(instance);
  }

  #eject(instance: Instance): void {
    if (instance.state !== 'ejected') this.logger.warn('instance ejected', { upstream: this.name, instance: instance.url, reason: instance.lastError, forMs: this.options.ejectMs });
    instance.state = 'ejected';
    instance.ejectedUntil = Date.now() + this.options.ejectMs;
    instance.consecutive5xx = 0;
  }

  #reinstate(instance: Instance): void {
    instance.state = 'up';
    this.logger.info('instance back in rotation', { upstream: this.name, instance: instance.url });
  }

  snapshot(now = Date.now()): ServiceSnapshot {
    return {
      service: this.name,
      source: this.resolver.source,
      breaker: this.breaker.state,
      ...(this.#lastResolveError ? { lastResolveError: this.#lastResolveError } : {}),
      instances: this.#order.map((i) => ({
        url: i.url,
        state: i.state === 'ejected' && now >= i.ejectedUntil ? 'probing' : i.state,
        requests: i.requests,
        failures: i.failures,
        ...(i.state === 'ejected' && now < i.ejectedUntil ? { ejectedForMs: i.ejectedUntil - now } : {}),
        ...(i.lastError ? { lastError: i.lastError } : {}),
      })),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#order.map((i) => i.dispatcher.close().catch(() => undefined)));
  }
}
