import type { AnyDomainEvent, EventBus, Subscription } from '@portal/contracts';
import { parseEvent } from '@portal/contracts';
import { isUnavailable } from '@portal/db';
import type { Logger } from '@portal/observability';
import { metrics, withLogContext } from '@portal/observability';

export interface InMemoryEventBusOptions {
  logger?: Logger;
  /** Attempts after the first, before an event is dead-lettered (failures that waiting can fix do not count). */
  retries?: number;
  /** First retry delay; doubles with each attempt, up to MAX_BACKOFF_MS while waiting on a dependency. */
  backoffMs?: number;
}

export interface DeadLetter {
  readonly group: string;
  readonly event: AnyDomainEvent;
  readonly error: string;
}

/** The longest wait between two attempts at an event whose database cannot answer. */
const MAX_BACKOFF_MS = 5_000;

interface Lane {
  readonly subscription: Subscription;
  readonly queue: AnyDomainEvent[];
  busy: boolean;
}

/**
 * The bus inside one process (the monolith): the same interface, contract
 * checks and retry/dead-letter behaviour as the Kafka bus, without a broker.
 * Each subscription has its own lane, so a slow consumer delays only itself.
 */
export class InMemoryEventBus implements EventBus {
  readonly deadLetters: DeadLetter[] = [];
  private readonly lanes: Lane[] = [];
  private readonly waiters = new Set<() => void>();
  private state: 'new' | 'started' | 'stopped' = 'new';
  private readonly stopping = Promise.withResolvers<void>();
  private stopRequested = false;

  constructor(private readonly options: InMemoryEventBusOptions = {}) {}

  subscribe(subscription: Subscription): void {
    if (this.state !== 'new') throw new Error(`subscribe '${subscription.group}' before the bus starts`);
    this.lanes.push({ subscription, queue: [], busy: false });
  }

  async start(): Promise<void> {
    this.state = 'started';
    for (const lane of this.lanes) void this.pump(lane);
  }

  async publish(events: readonly AnyDomainEvent[]): Promise<void> {
    if (this.state === 'stopped') throw new Error('the event bus is stopped');
    // Through JSON and the contract, as over the wire: what a consumer gets
    // here is exactly what it would get from Kafka.
    const delivered = events.map((event) => parseEvent(JSON.parse(JSON.stringify(event))));
    for (const lane of this.lanes) {
      const wanted = delivered.filter((event) => lane.subscription.events.includes(event.name));
      if (wanted.length === 0) continue;
      lane.queue.push(...wanted);
      if (this.state === 'started') void this.pump(lane);
    }
  }

  /** Resolves when every lane is empty: everything published so far has been handled. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  async stop(): Promise<void> {
    // Handlers waiting for their database give up now: nothing here outlives the process anyway.
    this.stopRequested = true;
    this.stopping.resolve();
    if (this.state === 'started') await this.idle();
    this.state = 'stopped';
  }

  /** Waits `ms`, or less if the bus stops meanwhile. */
  private async pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), this.stopping.promise]);
    clearTimeout(timer);
  }

  private isIdle(): boolean {
    return this.lanes.every((lane) => !lane.busy && (lane.queue.length === 0 || this.state !== 'started'));
  }

  private async pump(lane: Lane): Promise<void> {
    if (lane.busy) return;
    lane.busy = true;
    try {
      for (let event = lane.queue.shift(); event; event = lane.queue.shift()) {
        await this.deliver(lane.subscription, event);
      }
    } finally {
      lane.busy = false;
      if (this.isIdle()) {
        for (const resolve of this.waiters) resolve();
        this.waiters.clear();
      }
    }
  }

  private async deliver(subscription: Subscription, event: AnyDomainEvent): Promise<void> {
    const retries = this.options.retries ?? 3;
    let delay = this.options.backoffMs ?? 20;
    // Every line about this delivery, the handler's own and the retries', carries the event id and the request that caused it.
    await withLogContext({ eventId: event.id, requestId: event.traceId }, async () => {
      for (let failed = 0; ; ) {
        try {
          await subscription.handle(event);
          return;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          metrics().counter('portal_events_failed_total').inc({ group: subscription.group, event: event.name });
          // A database that cannot answer now may answer later: wait for it (as the Kafka bus does) until the bus stops.
          const waiting = isUnavailable(error) && !this.stopRequested;
          if (!waiting && (failed += 1) > retries) {
            // Events here went through their contract when published; only a handler can fail one.
            metrics().counter('portal_events_dead_lettered_total').inc({ group: subscription.group, reason: 'handler' });
            this.deadLetters.push({ group: subscription.group, event, error: message });
            this.options.logger?.error('event dead-lettered', { group: subscription.group, event: event.name, error: message });
            return;
          }
          this.options.logger?.warn(waiting ? 'event handler waits for its database; retrying' : 'event handler failed; retrying', {
            group: subscription.group,
            event: event.name,
            error: message,
            retryInMs: delay,
          });
          await this.pause(delay);
          delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        }
      }
    });
  }
}
