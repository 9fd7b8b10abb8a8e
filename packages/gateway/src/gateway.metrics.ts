import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BoundCounter, BoundHistogram, PortalMetrics } from '@portal/observability';
import type { BreakerState } from './circuit.breaker.js';
import type { Instance, UpstreamService } from './upstream.pool.js';

/** Where the proxy notes what it sent a request to, for the request's metrics. */
export const ROUTED_UPSTREAM = Symbol('portal.routedUpstream');
export const ROUTED_INSTANCE = Symbol('portal.routedInstance');
export type RoutedRequest = IncomingMessage & { [ROUTED_UPSTREAM]?: UpstreamService; [ROUTED_INSTANCE]?: Instance };

/** The label value for "no upstream" and "no instance": a request the gateway answered itself. */
const NONE = 'none';
const CLIENT_CLOSED = 499;
const BREAKER: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
export type UpstreamErrorKind = 'connect' | 'timeout' | 'reset';

interface Series {
  readonly count: BoundCounter;
  readonly duration: BoundHistogram;
}

/**
 * The gateway's metrics. Every label series a request touches is resolved
 * once (per route, upstream instance and status) and kept, so a request costs
 * a clock read, one 'finish' listener, two map lookups and two additions:
 * no label objects, no strings built.
 */
export class GatewayMetrics {
  readonly #requests;
  readonly #durations;
  readonly #errors;
  readonly #breaker;
  readonly #instances;
  // Weak, so instances that discovery dropped take their cache with them.
  readonly #byTarget = new Map<string, WeakMap<object, Map<number, Series>>>();
  readonly #gatewayItself = {};

  constructor(
    private readonly metrics: PortalMetrics,
    private readonly services: ReadonlyMap<string, UpstreamService>,
  ) {
    this.#requests = metrics.counter('portal_gateway_requests_total');
    this.#durations = metrics.histogram('portal_gateway_request_duration_seconds');
    this.#errors = metrics.counter('portal_gateway_upstream_errors_total');
    this.#breaker = metrics.gauge('portal_gateway_breaker_state');
    this.#instances = metrics.gauge('portal_gateway_instances');
  }

  /** A middleware step that times each request of `route` and counts it when its answer is sent. */
  measure(route: string): (req: IncomingMessage, res: ServerResponse) => void {
    let byTarget = this.#byTarget.get(route);
    if (!byTarget) this.#byTarget.set(route, (byTarget = new WeakMap()));
    const targets = byTarget;
    const seriesOf = (req: RoutedRequest, status: number): Series => {
      const upstream = req[ROUTED_UPSTREAM];
      const instance = req[ROUTED_INSTANCE];
      const key: object = instance ?? upstream ?? this.#gatewayItself;
      let byStatus = targets.get(key);
      if (!byStatus) targets.set(key, (byStatus = new Map()));
      let series = byStatus.get(status);
      if (!series) {
        const upstreamName = upstream?.name ?? NONE;
        series = {
          count: this.#requests.labels({ route, upstream: upstreamName, instance: instance?.url ?? NONE, status }),
          duration: this.#durations.labels({ route, upstream: upstreamName, status }),
        };
        byStatus.set(status, series);
      }
      return series;
    };
    return (req, res) => {
      const started = performance.now();
      // 'close', not 'finish': an answer cut short (a client gone, an upstream broken) counts too. 'on', not 'once': the response closes once, and once() wraps the listener at a measurable cost.
      res.on('close', () => {
        // Closed before any answer went out: the client left. 499, as nginx logs it, rather than a 200 nobody sent.
        const series = seriesOf(req, res.headersSent ? res.statusCode : CLIENT_CLOSED);
        series.count.inc();
        series.duration.observe((performance.now() - started) / 1000);
      });
    };
  }

  upstreamError(service: UpstreamService, instance: Instance, kind: UpstreamErrorKind): void {
    this.#errors.inc({ upstream: service.name, instance: instance.url, kind });
  }

  /** Breaker states and instance counts, read from the services when Prometheus scrapes. */
  sample(): void {
    this.#instances.reset();
    for (const service of this.services.values()) {
      const snapshot = service.snapshot();
      this.#breaker.set({ upstream: service.name }, BREAKER[snapshot.breaker]);
      const counts = { healthy: 0, ejected: 0, probing: 0 };
      for (const instance of snapshot.instances) counts[instance.state === 'up' ? 'healthy' : instance.state] += 1;
      for (const [state, n] of Object.entries(counts)) this.#instances.set({ upstream: service.name, state }, n);
    }
  }

  exposition(): ReturnType<PortalMetrics['exposition']> {
    return this.metrics.exposition();
  }
}
