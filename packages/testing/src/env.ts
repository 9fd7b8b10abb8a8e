import { UPSTREAM_IMAGES } from './versions.js';

/** What this package takes from the environment, read in one place. */
export interface TestingEnv {
  /** KAFKA_BROKERS: use these brokers instead of starting a container. */
  readonly kafkaBrokers: string[] | undefined;
  /** DATABASE_URL: use this server instead of starting a container. */
  readonly databaseUrl: string | undefined;
  readonly kafkaImage: string;
  readonly postgresImage: string;
  /** CI=true: a missing server is a failure, never a skip. */
  readonly ci: boolean;
}

export function readTestingEnv(env: NodeJS.ProcessEnv = process.env): TestingEnv {
  const brokers = env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const broker of brokers ?? []) {
    if (!/^[^\s:]+:\d+$/.test(broker)) {
      throw new Error(`KAFKA_BROKERS: '${broker}' is not host:port (example: KAFKA_BROKERS=localhost:9092)`);
    }
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL: expected postgres://user:password@host:port/database');
  }
  return {
    kafkaBrokers: brokers && brokers.length > 0 ? brokers : undefined,
    databaseUrl,
    kafkaImage: env.KAFKA_IMAGE?.trim() || UPSTREAM_IMAGES.kafka,
    postgresImage: env.POSTGRES_IMAGE?.trim() || UPSTREAM_IMAGES.postgres,
    ci: env.CI === 'true' || env.CI === '1',
  };
}
