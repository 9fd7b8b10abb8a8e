import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, IHeaders, KafkaMessage } from 'kafkajs';
import { deadLetterTopic } from '@portal/contracts';

/**
 * The consumer group whose committed offsets on a dead-letter topic mark how
 * far it has been redriven. It never consumes: `redrive` sets its offsets
 * after the letters are back on their topics.
 */
export const REDRIVE_GROUP = 'portal-dlq-redrive';

/** One dead letter, as KafkaEventBus wrote it (see its deadLetter()). */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly eventId: string | undefined;
  readonly eventName: string | undefined;
  readonly group: string | undefined;
  readonly originTopic: string | undefined;
  readonly originPartition: string | undefined;
  readonly originOffset: string | undefined;
  readonly failedAt: string | undefined;
  readonly error: string | undefined;
  /** Put back on its topic by an earlier redrive. */
  readonly redriven: boolean;
}

interface Raw {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** `portal.<group>.dead-letter`, or a group's name for its dead-letter topic. */
export function deadLetterTopicOf(name: string): string {
  return name.endsWith('.dead-letter') ? name : deadLetterTopic(name);
}

const text = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
};

async function withAdmin<T>(brokers: readonly string[], work: (admin: Admin, kafka: Kafka) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ clientId: 'portal-dlq', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin, kafka);
  } finally {
    await admin.disconnect();
  }
}

/** Refuses a topic that does not exist, naming the dead-letter topics there are. */
async function requireTopic(admin: Admin, topic: string): Promise<void> {
  const topics = await admin.listTopics();
  if (topics.includes(topic)) return;
  const letters = topics.filter((t) => t.endsWith('.dead-letter')).sort();
  throw new Error(`no topic ${topic} on this broker; dead-letter topics here: ${letters.length > 0 ? letters.join(', ') : 'none'}`);
}

/** Where the redrive group has got to, per partition (0 where it never was). */
async function redrivenUpTo(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId: REDRIVE_GROUP, topics: [topic] });
  return new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset === '-1' ? '0' : p.offset)]));
}

/**
 * Every message of `topic` from each partition's `from` offset up to its end
 * as it is now. A consumer of a group of its own (deleted after) reads them;
 * what is written meanwhile waits for the next call.
 */
async function readUpToEnd(admin: Admin, kafka: Kafka, topic: string, from: Map<number, bigint>): Promise<{ raws: Raw[]; ends: Map<number, bigint> }> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const pending = new Set(offsets.filter((o) => BigInt(o.high) > (from.get(o.partition) ?? BigInt(o.low))).map((o) => o.partition));
  const raws: Raw[] = [];
  if (pending.size === 0) return { raws, ends };
  const groupId = `portal-dlq-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = Promise.withResolvers<void>();
    const timeout = setTimeout(() => done.reject(new Error(`reading ${topic} took longer than 60 s`)), 60_000);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const end = ends.get(partition) ?? 0n;
        const offset = BigInt(message.offset);
        if (offset < end && offset >= (from.get(partition) ?? 0n)) raws.push({ partition, message });
        if (offset >= end - 1n) {
          pending.delete(partition);
          if (pending.size === 0) done.resolve();
        }
      },
    });
    try {
      await done.promise;
    } finally {
      clearTimeout(timeout);
    }
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  raws.sort((a, b) => a.partition - b.partition || (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
  return { raws, ends };
}

function letterOf({ partition, message }: Raw, redriven: Map<number, bigint>): DeadLetter {
  const h = message.headers;
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    eventId: text(h, 'event-id'),
    eventName: text(h, 'event-name'),
    group: text(h, 'dlq-group'),
    originTopic: text(h, 'dlq-origin-topic'),
    originPartition: text(h, 'dlq-origin-partition'),
    originOffset: text(h, 'dlq-origin-offset'),
    failedAt: text(h, 'dlq-failed-at'),
    error: text(h, 'dlq-error'),
    redriven: BigInt(message.offset) < (redriven.get(partition) ?? 0n),
  };
}

/** Every dead letter on a dead-letter topic (or a group's), oldest first per partition, each marked redriven or not. */
export async function listDeadLetters(brokers: readonly string[], name: string): Promise<DeadLetter[]> {
  const topic = deadLetterTopicOf(name);
  return withAdmin(brokers, async (admin, kafka) => {
    await requireTopic(admin, topic);
    const redriven = await redrivenUpTo(admin, topic);
    const { raws } = await readUpToEnd(admin, kafka, topic, new Map());
    return raws.map((raw) => letterOf(raw, redriven));
  });
}

/**
 * Puts every dead letter of a dead-letter topic (or a group's) not yet redriven back on the topic it came
 * from, as it was (key, value, the event's own headers; not the dlq- ones),
 * then records how far it got. Safe to repeat: a letter is redriven once, and
 * one sent again after a crash between the two steps changes nothing, since
 * every consumer group applies an event id once (its inbox). Events from other
 * groups' subscribers on the same topic find the id in their inbox too.
 * Returns the letters it put back, now marked redriven.
 */
export async function redriveDeadLetters(brokers: readonly string[], name: string): Promise<DeadLetter[]> {
  const topic = deadLetterTopicOf(name);
  return withAdmin(brokers, async (admin, kafka) => {
    await requireTopic(admin, topic);
    const redriven = await redrivenUpTo(admin, topic);
    const { raws, ends } = await readUpToEnd(admin, kafka, topic, redriven);
    const letters = raws.map((raw) => letterOf(raw, redriven));
    const unknown = letters.find((l) => l.originTopic === undefined);
    if (unknown) throw new Error(`${topic} partition ${unknown.partition} offset ${unknown.offset} names no origin topic (dlq-origin-topic): not a dead letter this bus wrote; nothing redriven`);
    if (raws.length > 0) {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const byTopic = new Map<string, { key: Buffer | null; value: Buffer | null; headers: IHeaders }[]>();
        for (const [i, { message }] of raws.entries()) {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).filter(([name]) => !name.startsWith('dlq-'))) as IHeaders;
          const origin = letters[i]?.originTopic as string;
          let list = byTopic.get(origin);
          if (!list) byTopic.set(origin, (list = []));
          list.push({ key: message.key, value: message.value, headers });
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([t, messages]) => ({ topic: t, messages })) });
      } finally {
        await producer.disconnect();
      }
    }
    await admin.setOffsets({ groupId: REDRIVE_GROUP, topic, partitions: [...ends].map(([partition, end]) => ({ partition, offset: end.toString() })) });
    return letters.map((letter) => ({ ...letter, redriven: true }));
  });
}
