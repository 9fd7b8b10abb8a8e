export { KAFKA_VERSION, UPSTREAM_IMAGES } from './versions.js';
export { readTestingEnv } from './env.js';
export type { TestingEnv } from './env.js';
export { requireDocker, waitUntil } from './docker.js';
export { startKafka } from './kafka.js';
export type { KafkaServer } from './kafka.js';
export { createDatabase, startPostgres } from './postgres.js';
export type { PostgresServer } from './postgres.js';
