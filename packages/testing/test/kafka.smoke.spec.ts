import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION, readTestingEnv, startKafka, waitUntil } from '@portal/testing';
import type { KafkaServer } from '@portal/testing';

const TOPIC = 'smoke.messages.v1';
const PARTITIONS = 3;

function batch(name: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key: `${name}-${i % 7}`, value: `${name}-${i}` }));
}

describe('Kafka smoke test (real broker)', () => {
  const env = readTestingEnv();
  let server: KafkaServer;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;
  const received: string[] = [];

  beforeAll(async () => {
    server = await startKafka(env);
    console.log(`Kafka broker version: ${server.version ?? 'unknown (external broker)'} at ${server.brokers.join(',')}`);
    kafka = new Kafka({
      clientId: 'smoke',
      brokers: server.brokers,
      logLevel: logLevel.NOTHING,
      // Bounded, and long enough to ride out a broker restart.
      retry: { initialRetryTime: 200, retries: 12, maxRetryTime: 5_000 },
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await server?.close();
  });

  it.skipIf(env.kafkaBrokers !== undefined)('runs the pinned Kafka version', () => {
    expect(server.version).toBe(KAFKA_VERSION);
  });

  it('creates a topic with explicit partitions through the admin API', async () => {
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    expect(topics[0]?.partitions).toHaveLength(PARTITIONS);
  });

  it('a producer and a consumer group exchange messages', async () => {
    consumer = kafka.consumer({ groupId: 'smoke-group', retry: { retries: 12, maxRetryTime: 5_000 } });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(String(message.value));
      },
    });

    const sent = batch('before', 100);
    await producer.send({ topic: TOPIC, acks: -1, messages: sent });

    await waitUntil('100 messages consumed', 30_000, async () => {
      if (received.length < sent.length) throw new Error(`${received.length}/${sent.length}`);
    });
    expect(new Set(received)).toEqual(new Set(sent.map((m) => m.value)));
  });

  // A broker restart needs a broker this test may restart; KAFKA_BROKERS names
  // someone else's. In CI there is no such escape: the suite starts its own.
  it.skipIf(env.kafkaBrokers !== undefined && !env.ci)('loses no message across a broker restart', async () => {
    // Held back from the consumer, these live only in the broker's log across
    // the restart.
    consumer.pause([{ topic: TOPIC }]);
    const held = batch('held', 100);
    await producer.send({ topic: TOPIC, acks: -1, messages: held });

    await server.stopBroker();
    // Proves the test talks to this broker: with it down, a client fails.
    const impatient = new Kafka({ brokers: server.brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1_000 }).admin();
    await expect(impatient.connect()).rejects.toThrow();
    await server.startBroker();

    consumer.resume([{ topic: TOPIC }]);
    const after = batch('after', 100);
    await producer.send({ topic: TOPIC, acks: -1, messages: after });

    const expected = new Set([...batch('before', 100), ...held, ...after].map((m) => m.value));
    await waitUntil('every message consumed after the restart', 60_000, async () => {
      const missing = [...expected].filter((v) => !received.includes(v));
      if (missing.length > 0) throw new Error(`${missing.length} missing, e.g. ${missing[0]}`);
    });
    expect(new Set(received)).toEqual(expected);
    // A bound, not a wait: stopping (up to 30 s), a cold start on a busy CI machine, then the catch-up.
  }, 300_000);
});
