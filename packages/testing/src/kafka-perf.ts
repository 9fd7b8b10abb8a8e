import { GenericContainer, Wait } from 'testcontainers';
import { requireDocker } from './docker.js';
import { readTestingEnv } from './env.js';
import type { TestingEnv } from './env.js';

export interface ProducerPerfResult {
  readonly records: number;
  readonly recordsPerSecond: number;
  readonly avgLatencyMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The tool's own summary line, as it printed it. */
  readonly summary: string;
}

export interface ProducerPerfOptions {
  readonly topic: string;
  readonly records: number;
  readonly recordSize: number;
  /** Producer settings, e.g. { acks: 'all', 'enable.idempotence': 'true' }. */
  readonly producerProps?: Record<string, string>;
}

/**
 * The broker's own ceiling: Kafka's producer perf tool
 * (kafka-producer-perf-test.sh from the same KAFKA_IMAGE), run in a container
 * on the host network against `brokers`. The topic must exist.
 */
export async function producerPerfTest(brokers: readonly string[], options: ProducerPerfOptions, env: TestingEnv = readTestingEnv()): Promise<ProducerPerfResult> {
  await requireDocker("Kafka's producer perf tool", 'nothing (it always runs in a container)');
  const props = { 'bootstrap.servers': brokers.join(','), ...options.producerProps };
  const container = await new GenericContainer(env.kafkaImage)
    .withNetworkMode('host')
    .withEntrypoint(['/opt/kafka/bin/kafka-producer-perf-test.sh'])
    .withCommand([
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--record-size',
      String(options.recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
    ])
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(300_000)
    .start();
  let output = '';
  const logs = await container.logs();
  await new Promise<void>((resolve, reject) => {
    logs.on('data', (chunk: Buffer | string) => (output += String(chunk)));
    logs.on('end', resolve);
    logs.on('error', reject);
  });
  await container.stop().catch(() => undefined);
  // e.g. "100000 records sent, 52323.4 records/sec (5.11 MB/sec), 30.20 ms avg latency, 300.00 ms max latency, 25 ms 50th, 90 ms 95th, 110 ms 99th, 120 ms 99.9th."
  const summary = output.split('\n').find((line) => / records sent, .* 50th, /.test(line));
  const numbers = summary && /^(\d+) records sent, ([\d.]+) records\/sec .*?, ([\d.]+) ms avg latency, .*?(\d+) ms 50th, .*?(\d+) ms 99th/.exec(summary.trim());
  if (!summary || !numbers) throw new Error(`kafka-producer-perf-test printed no summary:\n${output.slice(-2_000)}`);
  return {
    records: Number(numbers[1]),
    recordsPerSecond: Number(numbers[2]),
    avgLatencyMs: Number(numbers[3]),
    p50Ms: Number(numbers[4]),
    p99Ms: Number(numbers[5]),
    summary: summary.trim(),
  };
}
