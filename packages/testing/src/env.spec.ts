import { describe, expect, it } from 'vitest';
import { readTestingEnv } from './env.js';
import { UPSTREAM_IMAGES } from './versions.js';

describe('readTestingEnv', () => {
  it('defaults to the upstream images and no external servers', () => {
    const env = readTestingEnv({});
    expect(env).toEqual({
      kafkaBrokers: undefined,
      databaseUrl: undefined,
      kafkaImage: 'apache/kafka:4.3.1',
      postgresImage: 'postgres:15',
      ci: false,
    });
    expect(UPSTREAM_IMAGES.kafka).toBe(env.kafkaImage);
  });

  it('takes explicit servers and stand-in images', () => {
    const env = readTestingEnv({
      KAFKA_BROKERS: ' localhost:9092, broker-2:19092 ',
      DATABASE_URL: 'postgres://u:p@localhost:5432/d',
      KAFKA_IMAGE: 'local/kafka:x',
      POSTGRES_IMAGE: 'local/postgres:y',
      CI: 'true',
    });
    expect(env.kafkaBrokers).toEqual(['localhost:9092', 'broker-2:19092']);
    expect(env.databaseUrl).toBe('postgres://u:p@localhost:5432/d');
    expect(env.kafkaImage).toBe('local/kafka:x');
    expect(env.postgresImage).toBe('local/postgres:y');
    expect(env.ci).toBe(true);
  });

  it('names the variable when a value is malformed', () => {
    expect(() => readTestingEnv({ KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS: 'localhost' is not host:port/);
    expect(() => readTestingEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL: /);
  });
});
