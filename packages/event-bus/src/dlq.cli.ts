#!/usr/bin/env node
/**
 * `npm run dlq -- list|redrive <topic or group>`: shows a dead-letter topic's
 * letters, or puts the ones not yet redriven back on their topics (dlq.ts).
 * The broker comes from KAFKA_BROKERS, as the services take it.
 */
import { deadLetterTopicOf, listDeadLetters, redriveDeadLetters } from './dlq.js';
import type { DeadLetter } from './dlq.js';

const USAGE = `usage: KAFKA_BROKERS=host:port npm run dlq -- list|redrive <dead-letter topic or consumer group>
  list      every letter on the topic: where it came from, why it failed, whether it was redriven
  redrive   put the letters not yet redriven back on the topics they came from (safe to repeat)
  e.g.      npm run dlq -- list webtoon        (the topic portal.webtoon.dead-letter)`;

function table(letters: readonly DeadLetter[]): string {
  const rows = letters.map((l) => [
    `${l.partition}:${l.offset}`,
    l.eventName ?? '?',
    l.eventId ?? '?',
    `${l.originTopic ?? '?'}[${l.originPartition ?? '?'}]@${l.originOffset ?? '?'}`,
    l.failedAt ?? '?',
    l.redriven ? 'yes' : 'no',
    l.error ?? '?',
  ]);
  const head = ['letter', 'event', 'id', 'from', 'failed at', 'redriven', 'error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, name, ...rest] = argv;
  if ((command !== 'list' && command !== 'redrive') || name === undefined || rest.length > 0) {
    console.error(USAGE);
    return 64;
  }
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) {
    console.error(`KAFKA_BROKERS is not set: name the broker the services use (host:port; npm start prints it as "kafka ready on ...")\n${USAGE}`);
    return 64;
  }
  const topic = deadLetterTopicOf(name);
  if (command === 'list') {
    const letters = await listDeadLetters(brokers, topic);
    console.log(letters.length === 0 ? `${topic}: no dead letters` : `${topic}: ${letters.length} dead letter(s), ${letters.filter((l) => !l.redriven).length} not redriven\n${table(letters)}`);
    return 0;
  }
  const redriven = await redriveDeadLetters(brokers, topic);
  console.log(
    redriven.length === 0
      ? `${topic}: nothing to redrive`
      : `${topic}: ${redriven.length} letter(s) put back on their topics; each consumer group applies an event once, so one it had already applied changes nothing\n${table(redriven)}`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`dlq: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
