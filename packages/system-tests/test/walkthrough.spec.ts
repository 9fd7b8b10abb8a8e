import { afterAll, beforeAll, describe } from 'vitest';
import { startProcess } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { entry } from './paths.js';
import { itPrintsWhatTheReadmeSays, runWalkthrough } from './walkthrough.js';

describe('the README walk-through, against a fresh monolith with nothing but Node', () => {
  let monolith: ServiceProcess;
  let lines: string[];

  beforeAll(async () => {
    // No DATABASE_URL, no DATA_DIR, no Kafka: the embedded defaults, as `npm run start:monolith` has them.
    monolith = await startProcess(entry('monolith'), {
      env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: undefined, DATA_DIR: undefined, KAFKA_BROKERS: undefined, LOG_LEVEL: 'warn' },
    });
    lines = runWalkthrough(`${monolith.url}/api`);
  }, 120_000);

  afterAll(async () => {
    await monolith?.stop('SIGTERM');
  });

  itPrintsWhatTheReadmeSays(() => lines);
});
