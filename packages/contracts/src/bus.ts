import type { AnyDomainEvent, EventName } from './events.js';

/** A consumer's interest: a group name (one per consuming service) and the events it handles. */
export interface Subscription {
  /** One group per consuming service: every group sees every event once. */
  readonly group: string;
  readonly events: readonly EventName[];
  /**
   * Applies the event's effect. It may be delivered more than once; handlers make
   * that harmless by recording the event id with the effect (see the inbox).
   * Throwing asks for a retry; after the retries it is dead-lettered.
   */
  handle(event: AnyDomainEvent): Promise<void>;
}

/**
 * The event bus every shape uses: in-process in the monolith, Kafka between
 * services. Producers do not call `publish` directly: they write to their
 * outbox in the transaction of the change, and the outbox relay publishes.
 */
export interface EventBus {
  /**
   * Resolves once the bus has durably accepted every event; events with the
   * same aggregate id are delivered in the order given.
   */
  publish(events: readonly AnyDomainEvent[]): Promise<void>;
  /** Registers a subscription; call before `start`. */
  subscribe(subscription: Subscription): void;
  start(): Promise<void>;
  /** Stops taking work, finishes what is in flight, and disconnects. */
  stop(): Promise<void>;
}
