/**
 * The one Kafka version the project runs, in tests, Compose and Kubernetes alike.
 * 4.3.1 is the newest release whose broker and tools (the producer perf tool
 * among them) all resolve from Maven Central here, and kafkajs 2.2.4 was checked
 * against it: admin, idempotent producer with acks=all, consumer groups. Kafka 4
 * dropped old protocol versions (KIP-896), but none that kafkajs 2.2.4 needs.
 */
export const KAFKA_VERSION = '4.3.1';

/** Upstream images, the defaults everywhere; env vars may point at stand-ins. */
export const UPSTREAM_IMAGES = {
  kafka: `apache/kafka:${KAFKA_VERSION}`,
  postgres: 'postgres:15',
  prometheus: 'prom/prometheus:v2.42.0',
  node: 'node:24-bookworm-slim',
} as const;
