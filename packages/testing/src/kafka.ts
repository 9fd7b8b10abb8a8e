import { Kafka, logLevel } from 'kafkajs';
import { GenericContainer, RandomPortGenerator, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import { requireDocker, waitUntil } from './docker.js';
import { readTestingEnv } from './env.js';
import type { TestingEnv } from './env.js';

export interface KafkaServer {
  /** host:port pairs to give a client. */
  readonly brokers: string[];
  /** The broker's own version, from its start-up log; undefined for an external broker. */
  readonly version: string | undefined;
  /** True when KAFKA_BROKERS named the broker and no container was started. */
  readonly external: boolean;
  /** The container's id; undefined for an external broker. */
  readonly containerId: string | undefined;
  /** Stops the broker process (SIGTERM, then its data stays); only for a container. */
  stopBroker(): Promise<void>;
  /** Starts a stopped broker again on the same port and waits until it serves. */
  startBroker(): Promise<void>;
  /** Removes the container; a no-op for an external broker. */
  close(): Promise<void>;
}

const CONTAINER_PORT = 9092;
// A cold broker needs 10-20 s of CPU; on two cores shared with the rest of the
// suite that has taken over 90 s. A bound, not a wait.
const READY_TIMEOUT_MS = 240_000;

/**
 * A real Kafka broker for a test: the one KAFKA_BROKERS names, or else a single
 * KRaft broker in a container from KAFKA_IMAGE (default apache/kafka).
 */
export async function startKafka(env: TestingEnv = readTestingEnv()): Promise<KafkaServer> {
  if (env.kafkaBrokers !== undefined) {
    const brokers = env.kafkaBrokers;
    await waitUntil(`Kafka at KAFKA_BROKERS=${brokers.join(',')}`, 15_000, () => probe(brokers));
    return {
      brokers,
      version: undefined,
      external: true,
      containerId: undefined,
      stopBroker: () => Promise.reject(new Error('cannot stop the broker KAFKA_BROKERS names')),
      startBroker: () => Promise.reject(new Error('cannot start the broker KAFKA_BROKERS names')),
      close: () => Promise.resolve(),
    };
  }

  await requireDocker('a Kafka broker', 'KAFKA_BROKERS');
  // The advertised address must be the one the host reaches, and it has to be
  // known before the broker starts: bind a fixed free host port to it. A
  // restart keeps the binding, so clients reconnect to the same address.
  const hostPort = await new RandomPortGenerator().generatePort();
  const brokers = [`localhost:${hostPort}`];
  const log: string[] = [];
  const lastLines = () => log.join('').split('\n').slice(-20).join('\n');
  const container = await new GenericContainer(env.kafkaImage)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://:${CONTAINER_PORT},CONTROLLER://:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${hostPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      // Topics are created on purpose, with explicit partitions; a typo in a
      // topic name should fail, not quietly create a new topic.
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withExposedPorts({ container: CONTAINER_PORT, host: hostPort })
    .withLogConsumer((stream) => stream.on('data', (chunk: Buffer | string) => log.push(String(chunk))))
    // The broker says when it serves; the probe below then checks it from here.
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(READY_TIMEOUT_MS)
    .start()
    .catch((error: unknown) => {
      throw new Error(`Kafka in ${env.kafkaImage} did not start: ${(error as Error).message}\nLast broker log lines:\n${lastLines()}`, {
        cause: error,
      });
    });

  try {
    await waitUntil(`Kafka in ${env.kafkaImage}`, READY_TIMEOUT_MS, () => probe(brokers));
  } catch (error) {
    await container.stop().catch(() => undefined);
    throw new Error(`${(error as Error).message}\nLast broker log lines:\n${lastLines()}`, {
      cause: error,
    });
  }
  const version = /Kafka version: (\S+)/.exec(log.join(''))?.[1];
  return containerHandle(container, brokers, version);
}

function containerHandle(container: StartedTestContainer, brokers: string[], version: string | undefined): KafkaServer {
  const docker = async () => {
    const client = await getContainerRuntimeClient();
    return { client, ref: client.container.getById(container.getId()) };
  };
  return {
    brokers,
    version,
    external: false,
    containerId: container.getId(),
    async stopBroker() {
      const { client, ref } = await docker();
      await client.container.stop(ref, { timeout: 30 });
    },
    async startBroker() {
      const { client, ref } = await docker();
      await client.container.start(ref);
      await waitUntil('Kafka after start', READY_TIMEOUT_MS, () => probe(brokers));
    },
    async close() {
      await container.stop({ timeout: 5 });
    },
  };
}

/** Resolves when the broker answers metadata and its group coordinator is up. */
async function probe(brokers: string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'portal-testing-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    await admin.listGroups();
  } finally {
    await admin.disconnect();
  }
}
