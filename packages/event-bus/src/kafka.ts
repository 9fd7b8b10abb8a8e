import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { ContractViolation, EVENTS, TOPICS, deadLetterTopic, parseEvent } from '@portal/contracts';
import type { AnyDomainEvent, EventBus, Subscription } from '@portal/contracts';
import { isUnavailable } from '@portal/db';
import type { Logger } from '@portal/observability';
import { metrics, withLogContext } from '@portal/observability';

export interface KafkaEventBusOptions {
  readonly brokers: readonly string[];
  /** The service's name: the client id brokers see. */
  readonly clientId: string;
  readonly logger: Logger;
  /** Partitions of each topic this bus creates. */
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Handler attempts after the first before an event is dead-lettered (failures that waiting can fix do not count). */
  readonly retries?: number;
  /** First retry delay; doubles each attempt, up to MAX_BACKOFF_MS while waiting on a dependency. */
  readonly backoffMs?: number;
  /** How often consumer lag is measured for portal_consumer_lag (default 10 s); 0 turns it off. */
  readonly lagIntervalMs?: number;
}

/** A lag measurement that takes longer is abandoned; the gauges keep their last values. */
const LAG_TIMEOUT_MS = 5_000;
/** The longest wait between two attempts at an event whose dependency is down; well within the group's session timeout (30 s). */
const MAX_BACKOFF_MS = 5_000;

/** A partition held up by an event whose handler waits on a dependency that is down. */
export interface StalledPartition {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly since: Date;
  readonly error: string;
}

/**
 * The event bus between services. Producing is idempotent with acks from all
 * in-sync replicas, keyed by aggregate id. Each subscription is a consumer
 * group; an event that does not match its contract, or whose handler keeps
 * failing, goes to the group's dead-letter topic with the error and its
 * origin in headers, and the group moves on. A handler failing because its
 * database cannot answer (isUnavailable) is retried for as long as that
 * lasts, holding its partition: the event can succeed later, and dead-letting
 * it would lose its effect.
 */
export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly subscriptions: Subscription[] = [];
  private readonly consumers: Consumer[] = [];
  private producer: Producer | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private lagTimer: NodeJS.Timeout | undefined;
  private lagAdmin: Admin | undefined;
  private lagRun: Promise<void> | undefined;
  private pinging: Promise<void> | undefined;
  private readonly stalled = new Map<string, StalledPartition>();
  private readonly stopping = Promise.withResolvers<void>();

  constructor(private readonly options: KafkaEventBusOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, log }) => {
        const fields = { component: 'kafkajs', namespace: log.namespace, error: log.error };
        if (level <= logLevel.ERROR) options.logger.error(log.message, fields);
        else options.logger.warn(log.message, fields);
      },
      // Long enough to ride out a broker restart; the outbox keeps anything that still fails.
      retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 10_000 },
    });
  }

  subscribe(subscription: Subscription): void {
    if (this.state !== 'new') throw new Error(`subscribe '${subscription.group}' before the bus starts`);
    this.subscriptions.push(subscription);
  }

  /** Every topic this process needs, created with explicit partitions; then producer and consumers. */
  async start(): Promise<void> {
    try {
      await this.ensureTopics();
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await this.producer.connect();
      for (const subscription of this.subscriptions) {
        const consumer = this.kafka.consumer({ groupId: subscription.group, allowAutoTopicCreation: false });
        this.consumers.push(consumer);
        await consumer.connect();
        // A new group reads from the start: a service that joins later catches up on history.
        await consumer.subscribe({ topics: topicsOf(subscription), fromBeginning: true });
        await consumer.run({
          // Partitions are independent (order only matters within one), so
          // each is worked on at once; within a partition events stay in order.
          partitionsConsumedConcurrently: this.options.partitions ?? 3,
          eachMessage: ({ topic, partition, message, heartbeat }) => this.consume(subscription, topic, partition, message, heartbeat),
        });
      }
    } catch (error) {
      // Whoever calls start() again (the host waits for a broker that is not up yet) starts from nothing.
      await Promise.all(this.consumers.map((consumer) => consumer.disconnect().catch(() => undefined)));
      await this.producer?.disconnect().catch(() => undefined);
      this.consumers.length = 0;
      this.producer = undefined;
      throw error;
    }
    this.state = 'started';
    const lagIntervalMs = this.options.lagIntervalMs ?? 10_000;
    if (lagIntervalMs > 0 && this.subscriptions.length > 0) {
      this.lagTimer = setInterval(() => void this.measureLag(), lagIntervalMs);
      this.lagTimer.unref();
    }
  }

  /**
   * Sets portal_consumer_lag for every group and partition of this process:
   * the end of each partition minus what the group committed. On a timer and
   * not on scrape, so a slow broker never holds a scrape up; one measurement
   * at a time, each abandoned after LAG_TIMEOUT_MS.
   */
  measureLag(): Promise<void> {
    this.lagRun ??= this.lagOnce()
      .catch((error: unknown) => this.options.logger.debug('consumer lag not measured', { error }))
      .finally(() => (this.lagRun = undefined));
    return this.lagRun;
  }

  private async lagOnce(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${LAG_TIMEOUT_MS} ms`)), LAG_TIMEOUT_MS);
    });
    const measure = async () => {
      if (!this.lagAdmin) {
        const admin = this.kafka.admin();
        await admin.connect();
        this.lagAdmin = admin;
      }
      const admin = this.lagAdmin;
      const ends = new Map<string, Promise<{ partition: number; high: string; low: string }[]>>();
      const endsOf = (topic: string) => {
        let found = ends.get(topic);
        if (!found) ends.set(topic, (found = admin.fetchTopicOffsets(topic)));
        return found;
      };
      const lag = metrics().gauge('portal_consumer_lag');
      for (const subscription of this.subscriptions) {
        const topics = topicsOf(subscription);
        const committed = await admin.fetchOffsets({ groupId: subscription.group, topics });
        for (const { topic, partitions } of committed) {
          const offsets = new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
          for (const { partition, high, low } of await endsOf(topic)) {
            const at = offsets.get(partition) ?? -1;
            // Nothing committed yet: a new group reads from the start (fromBeginning).
            const from = at >= 0 ? at : Number(low);
            lag.set({ group: subscription.group, topic, partition }, Math.max(0, Number(high) - from));
          }
        }
      }
    };
    try {
      await Promise.race([measure(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async publish(events: readonly AnyDomainEvent[]): Promise<void> {
    if (this.state !== 'started' || !this.producer) throw new Error('the event bus is not running');
    const byTopic = new Map<string, { key: string; value: string; headers: IHeaders }[]>();
    for (const event of events) {
      const topic = EVENTS[event.name].topic;
      const messages = byTopic.get(topic) ?? [];
      messages.push({
        key: event.aggregateId,
        value: JSON.stringify(event),
        headers: { 'event-id': event.id, 'event-name': event.name, 'event-version': String(event.version), 'trace-id': event.traceId },
      });
      byTopic.set(topic, messages);
    }
    await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }

  /** Stops fetching, lets in-flight handlers finish, commits offsets, disconnects. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.stopping.resolve();
    clearInterval(this.lagTimer);
    await this.lagRun;
    await this.lagAdmin?.disconnect().catch(() => undefined);
    await Promise.all(this.consumers.map((consumer) => consumer.disconnect()));
    await this.producer?.disconnect();
  }

  /**
   * Resolves when the cluster answers: for health checks. No retries (a probe
   * asks again soon enough), and probes that come while one runs share it, so
   * an outage does not pile up clients that keep trying.
   */
  ping(): Promise<void> {
    this.pinging ??= this.pingOnce().finally(() => (this.pinging = undefined));
    return this.pinging;
  }

  private async pingOnce(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      await admin.describeCluster();
    } finally {
      await admin.disconnect();
    }
  }

  private async ensureTopics(): Promise<void> {
    const topics = [...new Set([...Object.values(TOPICS), ...this.subscriptions.map((s) => deadLetterTopic(s.group))])];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        // Services start side by side and race to create the same topics: a
        // topic another one created first counts as created (kafkajs returns
        // false for it rather than failing).
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.options.partitions ?? 3,
            replicationFactor: this.options.replicationFactor ?? 1,
          })),
        });
        this.options.logger.info('topics ensured', { topics: missing });
      }
      await this.waitForLeaders(admin, topics);
    } finally {
      await admin.disconnect();
    }
  }

  /** Until every partition of `topics` has a leader: before that, producing or joining a group fails. */
  private async waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        if (metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`topics without leaders after 30 s: ${topics.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The partitions held up now by a dependency that is down: for health. */
  stalls(): StalledPartition[] {
    return [...this.stalled.values()];
  }

  private async consume(subscription: Subscription, topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    let event: AnyDomainEvent;
    try {
      event = parseEvent(JSON.parse(message.value?.toString() ?? 'null'));
    } catch (error) {
      const reason = error instanceof ContractViolation || error instanceof SyntaxError ? error.message : String(error);
      metrics().counter('portal_events_dead_lettered_total').inc({ group: subscription.group, reason: 'schema' });
      await this.deadLetter(subscription, topic, partition, message, `contract: ${reason}`);
      return;
    }
    if (!subscription.events.includes(event.name)) return;
    const retries = this.options.retries ?? 3;
    let delay = this.options.backoffMs ?? 100;
    const key = `${subscription.group}/${topic}/${partition}`;
    await withLogContext({ eventId: event.id, requestId: event.traceId }, async () => {
      try {
        for (let failed = 0; ; ) {
          try {
            await subscription.handle(event);
            return;
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            metrics().counter('portal_events_failed_total').inc({ group: subscription.group, event: event.name });
            const waiting = isUnavailable(error);
            if (waiting) {
              const since = this.stalled.get(key)?.since ?? new Date();
              this.stalled.set(key, { group: subscription.group, topic, partition, offset: message.offset, since, error: reason });
            } else if ((failed += 1) > retries) {
              metrics().counter('portal_events_dead_lettered_total').inc({ group: subscription.group, reason: 'handler' });
              await this.deadLetter(subscription, topic, partition, message, `handler: ${reason}`);
              return;
            }
            this.options.logger.warn(waiting ? 'event handler waits for its database; retrying' : 'event handler failed; retrying', {
              group: subscription.group,
              event: event.name,
              partition,
              offset: message.offset,
              error: reason,
              retryInMs: delay,
            });
            await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), this.stopping.promise]);
            // Left uncommitted: the next owner of the partition (this process restarted, or another) gets it again.
            if (this.state === 'stopped') throw new Error(`stopping; ${event.name} ${event.id} is left for redelivery`, { cause: error });
            // Keeps the group from deciding this member is gone while it waits;
            // throws when the group rebalances, and the event goes to the partition's new owner.
            await heartbeat();
            delay = Math.min(delay * 2, MAX_BACKOFF_MS);
          }
        }
      } finally {
        this.stalled.delete(key);
      }
    });
  }

  private async deadLetter(subscription: Subscription, topic: string, partition: number, message: KafkaMessage, error: string): Promise<void> {
    const target = deadLetterTopic(subscription.group);
    this.options.logger.error('event dead-lettered', { group: subscription.group, topic, partition, offset: message.offset, error });
    await this.producer?.send({
      topic: target,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-error': error,
            'dlq-group': subscription.group,
            'dlq-origin-topic': topic,
            'dlq-origin-partition': String(partition),
            'dlq-origin-offset': message.offset,
            'dlq-failed-at': new Date().toISOString(),
          },
        },
      ],
    });
  }
}

function topicsOf(subscription: Subscription): string[] {
  return [...new Set(subscription.events.map((name) => EVENTS[name].topic))];
}
