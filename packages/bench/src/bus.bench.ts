// The event bus as the services use it: a commit writes events to the outbox,
// the relay sends them to Kafka, a consumer group applies each once. Prints
// publish-to-effect latency at a steady rate, the most events per second the
// path carries, and beside them the broker's own ceiling from Kafka's producer
// perf tool, all in one run: only the ratio means much on a noisy machine.
import { performance } from 'node:perf_hooks';
import { createEvent } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce } from '@portal/event-bus';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { createLogger } from '@portal/observability';
import { createDatabase, producerPerfTest, startKafka, startPostgres, waitUntil } from '@portal/testing';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 500);
const perCommit = Math.max(1, Math.round(rate / 100));
const burst = Number(process.env.BENCH_BURST ?? 10_000);
const GROUP = 'bench';
const say = (line: string) => process.stderr.write(`[bench:bus] ${line}\n`);
const logger = createLogger('bench', { level: 'error' });

let n = 0;
const event = (): AnyDomainEvent => {
  n += 1;
  const id = `00000000-0000-4000-8000-${String(n % 50).padStart(12, '0')}`;
  return createEvent('comment.added', { commentId: crypto.randomUUID(), postId: id, authorId: id }, { aggregateId: id, traceId: `bench-${n}` });
};

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

say('starting Kafka and PostgreSQL');
const [kafka, postgres] = await Promise.all([startKafka(), startPostgres()]);
const stops: (() => Promise<unknown>)[] = [];
try {
  const producerDb: Database = await openDatabase({ url: await createDatabase(postgres, 'bench_producer') });
  const consumerDb: Database = await openDatabase({ url: await createDatabase(postgres, 'bench_consumer') });
  stops.push(() => producerDb.close(), () => consumerDb.close());
  await migrate(producerDb, [MESSAGING_MIGRATION]);
  await migrate(consumerDb, [MESSAGING_MIGRATION, { id: '001_effects', sql: 'CREATE TABLE effects (event_id uuid PRIMARY KEY)' }]);

  // Commit time to effect time, both on this process's clock.
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let applied = 0;
  const consumer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'bench-consumer', logger });
  consumer.subscribe({
    group: GROUP,
    events: ['comment.added'],
    handle: async (e) => {
      await handleOnce(consumerDb, GROUP, e, async (tx) => void (await tx.query('INSERT INTO effects (event_id) VALUES ($1)', [e.id])));
      const at = committedAt.get(e.id);
      if (at !== undefined) latencies.push(performance.now() - at);
      applied += 1;
    },
  });
  const producer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'bench-producer', logger });
  await Promise.all([consumer.start(), producer.start()]);
  stops.unshift(() => consumer.stop(), () => producer.stop());
  const relay = new OutboxRelay(producerDb, producer, { logger });
  relay.start();
  stops.unshift(() => relay.stop());

  const commit = async (events: AnyDomainEvent[]) => {
    await producerDb.transaction((tx) => appendToOutbox(tx, events));
    const now = performance.now();
    for (const e of events) committedAt.set(e.id, now);
    relay.nudge();
  };
  const waitApplied = (target: number) =>
    waitUntil(`${target} events applied`, 300_000, async () => {
      if (applied < target) throw new Error(`${applied}/${target} applied, ${await relay.pending()} in the outbox`);
    });

  // Warm-up: connections, group join, JIT.
  for (let i = 0; i < 20; i += 1) await commit([event()]);
  await waitApplied(20);
  latencies.length = 0;

  say(`steady: ${rate} events/s for ${seconds} s, one commit of ${perCommit} events every 10 ms`);
  const steadyStart = performance.now();
  const total = rate * seconds;
  for (let sent = 0, tick = 0; sent < total; tick += 1) {
    const due = steadyStart + tick * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = Array.from({ length: Math.min(perCommit, total - sent) }, event);
    sent += batch.length;
    await commit(batch);
  }
  await waitApplied(20 + total);
  const steadySeconds = (performance.now() - steadyStart) / 1_000;
  const steady = [...latencies].sort((a, b) => a - b);

  say(`burst: ${burst} events committed as fast as the database takes them`);
  const before = applied;
  const burstStart = performance.now();
  for (let i = 0; i < burst; i += 100) await commit(Array.from({ length: Math.min(100, burst - i) }, event));
  await waitApplied(before + burst);
  const burstRate = burst / ((performance.now() - burstStart) / 1_000);

  const size = Buffer.byteLength(JSON.stringify(event()));
  say(`broker ceiling: kafka-producer-perf-test, ${burst * 5} records of ${size} bytes, acks=all, idempotent`);
  const ceiling = await producerPerfTest(kafka.brokers, {
    topic: 'portal.blog.events',
    records: burst * 5,
    recordSize: size,
    producerProps: { acks: 'all', 'enable.idempotence': 'true' },
  });

  const rows = [
    ['path', 'events/s', 'p50 ms', 'p99 ms'],
    [`outbox -> Kafka -> effect, steady ${rate}/s`, (total / steadySeconds).toFixed(0), percentile(steady, 50).toFixed(1), percentile(steady, 99).toFixed(1)],
    [`outbox -> Kafka -> effect, burst of ${burst}`, burstRate.toFixed(0), '', ''],
    ['broker ceiling (kafka-producer-perf-test)', ceiling.recordsPerSecond.toFixed(0), String(ceiling.p50Ms), String(ceiling.p99Ms)],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(`outbox path at its most / broker ceiling: ${(burstRate / ceiling.recordsPerSecond).toFixed(3)} x`);
  console.log(`(latency: from the commit of the change to the commit of its effect; the perf tool's is send to ack; ${ceiling.summary})`);
  // Nothing lost: every committed event has its effect (and the primary key allows no second one).
  const effects = (await consumerDb.query<{ n: number }>('SELECT count(*)::int AS n FROM effects')).rows[0]?.n;
  if (effects !== 20 + total + burst) throw new Error(`${effects} effects for ${20 + total + burst} events`);
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
  await Promise.all([kafka.close(), postgres.close()]);
}
