// `npm start` as a user runs it: the root command, with KAFKA_BROKERS unset,
// so that it starts its own Kafka container (KAFKA_IMAGE, as the tests'); the
// README walk-through against its gateway; then Ctrl-C, after which no
// service answers and the container is gone.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_IMAGES, waitUntil } from '@portal/testing';
import { root } from './paths.js';
import { itPrintsWhatTheReadmeSays, runWalkthrough } from './walkthrough.js';

const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;
// What npm start listens on: the gateway, its admin port and the services.
const PORTS = [8080, 9876, 3001, 3002, 3003, 3004, 3005, 3006];
const DEAD_DOCKER = 'unix:///nonexistent/docker.sock';

interface Started {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `npm start` in the repository's root, in a process group of its own as a terminal gives it: Ctrl-C signals the whole group. */
function npmStart(env: Record<string, string | undefined>): Started {
  const child = spawn('npm', ['start'], { cwd: root, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Resolves true when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(!socket.destroy()));
    socket.once('error', () => resolve(false));
  });
}

/** Where the README says the walk-through should point to run against `npm start`. */
function readmeGatewayApi(): string {
  const api = /`API=(http:\/\/localhost:8080\/api)`/.exec(readFileSync(`${root}README.md`, 'utf8'))?.[1];
  if (api === undefined) throw new Error('README.md does not say `API=http://localhost:8080/api` for running the walk-through against npm start');
  return api;
}

async function bounded<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('npm start with no KAFKA_BROKERS and no Docker answering', () => {
  it('stops at once, before building the services, naming both ways out and the monolith', async () => {
    const started = npmStart({ KAFKA_BROKERS: undefined, DOCKER_HOST: DEAD_DOCKER });
    const code = await bounded('npm start exits', 120_000, started.exited);
    const output = started.output();
    expect(code, output).not.toBe(0);
    expect(output).toContain('KAFKA_BROKERS is not set and no Docker engine answered');
    expect(output).toContain('start Docker');
    expect(output).toContain('KAFKA_BROKERS=host:port');
    expect(output).toContain('npm run start:monolith');
    // Only the launcher was built; no service was built or started.
    expect(output).not.toMatch(/@portal\/[a-z-]+:(start|build)/);
    expect(output).not.toContain('ready on');
  }, 150_000);
});

describe('npm start, as a user runs it, with Docker', () => {
  let started: Started;
  let container: string;
  let lines: string[];

  beforeAll(async () => {
    // Never a skip: without Docker this has not passed.
    await getContainerRuntimeClient().catch((error: unknown) => {
      throw new Error(`This test needs Docker: npm start runs its Kafka broker in a container there (${(error as Error).message})`, { cause: error });
    });
    const busy = (await Promise.all(PORTS.map(async (port) => ((await listening(port)) ? port : undefined)))).filter((p) => p !== undefined);
    if (busy.length > 0) throw new Error(`npm start listens on ${PORTS.join(', ')}; in use already: ${busy.join(', ')}`);

    started = npmStart({ KAFKA_BROKERS: undefined, API: undefined });
    // A cold build, a cold broker and six services starting at once on two cores: minutes. A bound, not a wait.
    await waitUntil('npm start: kafka, every service and the gateway ready', 600_000, async () => {
      if (started.child.exitCode !== null) throw new Error(`npm start exited with ${started.child.exitCode}`);
      const missing = ['kafka', ...SERVICES, 'gateway'].filter((name) => !started.output().includes(`${name} ready on `));
      if (missing.length > 0) throw new Error(`not ready yet: ${missing.join(', ')}`);
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${started.output().split('\n').slice(-40).join('\n')}`, { cause: error });
    });
    container = /kafka ready on localhost:\d+ \(container ([0-9a-f]{12})/.exec(started.output())?.[1] ?? '';
    lines = runWalkthrough(readmeGatewayApi());
  }, 900_000);

  afterAll(async () => {
    // Only if a test failed before Ctrl-C was sent: leave nothing behind.
    if (started?.child.exitCode === null && started.child.pid !== undefined) {
      process.kill(-started.child.pid, 'SIGINT');
      await bounded('npm start exits', 60_000, started.exited).catch(() => process.kill(-(started.child.pid ?? 0), 'SIGKILL'));
    }
    if (container) {
      const client = await getContainerRuntimeClient();
      await client.container.getById(container).remove({ force: true }).catch(() => undefined);
    }
  }, 120_000);

  it('runs Kafka from KAFKA_IMAGE in a container, and every service talks over it', async () => {
    expect(started.output()).toContain(`(container ${container}, ${process.env.KAFKA_IMAGE?.trim() || UPSTREAM_IMAGES.kafka})`);
    const client = await getContainerRuntimeClient();
    expect((await client.container.inspect(client.container.getById(container))).State.Running).toBe(true);
    for (const service of SERVICES) expect(started.output()).toMatch(new RegExp(`${service} ready on \\S+ \\(.*bus: kafka`));
  });

  describe('the README walk-through against its gateway', () => {
    itPrintsWhatTheReadmeSays(() => lines);
  });

  it('on Ctrl-C stops every service and the gateway, and removes the Kafka container', async () => {
    process.kill(-(started.child.pid ?? 0), 'SIGINT');
    await bounded('npm start exits after Ctrl-C', 60_000, started.exited);
    await waitUntil('every port closed', 30_000, async () => {
      const open = (await Promise.all(PORTS.map(async (port) => ((await listening(port)) ? port : undefined)))).filter((p) => p !== undefined);
      if (open.length > 0) throw new Error(`still listening: ${open.join(', ')}`);
    });
    expect(started.output()).toContain(`kafka container ${container} removed`);
    const client = await getContainerRuntimeClient();
    await expect(client.container.inspect(client.container.getById(container))).rejects.toMatchObject({ statusCode: 404 });
  }, 120_000);
});
