import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { constants } from 'node:os';
import { getContainerRuntimeClient } from 'testcontainers';
import { readTestingEnv, startKafka } from '@portal/testing';
import type { KafkaServer, TestingEnv } from '@portal/testing';

export interface LaunchOptions {
  /** Where the services' command runs: the repository's root. */
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  /** One line of progress for the terminal. */
  readonly say: (line: string) => void;
  /** What runs the services and the gateway until they stop; it gets KAFKA_BROKERS in its environment. */
  readonly services: readonly [string, ...string[]];
}

/**
 * Runs the services with a Kafka broker between them, and resolves with the
 * exit code. The broker is the one KAFKA_BROKERS names, or else a container of
 * the pinned image (KAFKA_IMAGE if set), started the way the tests start theirs
 * (`startKafka`) and removed when the services exit or a SIGINT or SIGTERM
 * stops them. With neither, it returns 1 at once, before anything is built.
 */
export async function launch(options: LaunchOptions): Promise<number> {
  const { env, say } = options;
  let testing: TestingEnv;
  try {
    testing = readTestingEnv(env);
  } catch (error) {
    say((error as Error).message);
    return 78;
  }

  // Installed first: a Ctrl-C while the broker starts must still remove its container.
  let stopping: NodeJS.Signals | undefined;
  let services: ReturnType<typeof spawn> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping === undefined && services === undefined) say(`${signal}: stopping once the Kafka container has started`);
    stopping = signal;
    services?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let kafka: KafkaServer | undefined;
  try {
    if (testing.kafkaBrokers === undefined) {
      const problem = await dockerProblem(env);
      if (problem !== undefined) {
        say(noKafkaMessage(problem, testing.kafkaImage));
        return 1;
      }
      say(`starting Kafka (${testing.kafkaImage}) in a container; a cold broker takes 10 to 60 s`);
      kafka = await startKafka(testing);
      say(`kafka ready on ${kafka.brokers.join(',')} (container ${shortId(kafka)}, ${testing.kafkaImage})`);
    } else {
      say(`kafka: KAFKA_BROKERS=${testing.kafkaBrokers.join(',')}, no container started`);
    }
    if (stopping !== undefined) return 0;

    const brokers = (kafka?.brokers ?? testing.kafkaBrokers ?? []).join(',');
    const [command, ...args] = options.services;
    const child = spawn(command, args, { cwd: options.root, env: { ...env, KAFKA_BROKERS: brokers }, stdio: 'inherit' });
    services = child;
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + constants.signals[signal])));
    });
  } catch (error) {
    say(`could not start: ${(error as Error).message}`);
    return 1;
  } finally {
    if (kafka !== undefined) {
      const id = shortId(kafka);
      const full = kafka.containerId ?? '';
      await kafka.close().then(
        () => say(`kafka container ${id} removed`),
        (error: unknown) => say(`kafka container ${id} NOT removed (${(error as Error).message}): docker rm -f ${full}`),
      );
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What to do when there is no broker to use and no Docker to start one in. */
export function noKafkaMessage(reason: string, image: string): string {
  return [
    `npm start needs a Kafka broker for the services to talk through: KAFKA_BROKERS is not set and no Docker engine answered (${reason}).`,
    `Either start Docker (https://docs.docker.com/engine/install/): npm start then runs Kafka (${image}) in a container and removes it when it stops;`,
    `or set KAFKA_BROKERS=host:port to a broker you run, e.g. KAFKA_BROKERS=localhost:9092 npm start.`,
    `npm run start:monolith needs neither: the same modules in one process, with an in-process event bus.`,
  ].join('\n');
}

/**
 * Why no container engine can be used, or undefined when one answers.
 * DOCKER_HOST, when set, is the engine meant: testcontainers would quietly
 * fall back to the default socket if it does not answer, so it is asked first.
 */
export async function dockerProblem(env: NodeJS.ProcessEnv, findEngine: () => Promise<unknown> = getContainerRuntimeClient): Promise<string | undefined> {
  try {
    const host = env.DOCKER_HOST?.trim();
    if (host) await ping(host);
    await findEngine();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Resolves when anything answers HTTP at a unix:// or tcp:// DOCKER_HOST (other schemes are left to testcontainers). */
function ping(dockerHost: string, timeoutMs = 5_000): Promise<void> {
  const url = new URL(dockerHost);
  const target =
    url.protocol === 'unix:' ? { socketPath: url.pathname } : url.protocol === 'tcp:' ? { host: url.hostname, port: Number(url.port || 2375) } : undefined;
  if (target === undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve();
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new Error(`DOCKER_HOST=${dockerHost}: ${error.message}`)));
    req.end();
  });
}

const shortId = (kafka: KafkaServer) => kafka.containerId?.slice(0, 12) ?? 'none';

