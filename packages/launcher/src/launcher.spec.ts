import { describe, expect, it } from 'vitest';
import { dockerProblem, launch } from './launcher.js';

const DEAD_DOCKER = 'unix:///nonexistent/docker.sock';

/** Runs `launch` with `env` and a services command that exits with what it found in its environment. */
async function launchWith(env: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  const code = await launch({
    root: process.cwd(),
    env,
    say: (line) => lines.push(line),
    // Exits 0 only if it was given the broker; 42 if it got none.
    services: [process.execPath, '-e', 'process.exit(process.env.KAFKA_BROKERS === "broker.example:9092" ? 0 : 42)'],
  });
  return { code, output: lines.join('\n') };
}

describe('launch', () => {
  it('uses the broker KAFKA_BROKERS names, gives it to the services and starts no container', async () => {
    const { code, output } = await launchWith({ KAFKA_BROKERS: 'broker.example:9092', DOCKER_HOST: DEAD_DOCKER });
    expect(code).toBe(0);
    expect(output).toContain('KAFKA_BROKERS=broker.example:9092, no container started');
  });

  it('with no broker and no Docker, stops at once naming both ways out and the monolith, and runs nothing', async () => {
    const started = Date.now();
    const { code, output } = await launchWith({ DOCKER_HOST: DEAD_DOCKER });
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output).toContain('KAFKA_BROKERS is not set and no Docker engine answered');
    expect(output).toContain(DEAD_DOCKER);
    expect(output).toContain('start Docker');
    expect(output).toContain('KAFKA_BROKERS=host:port');
    expect(output).toContain('npm run start:monolith');
  });

  it('refuses a KAFKA_BROKERS that is not host:port with exit 78', async () => {
    const { code, output } = await launchWith({ KAFKA_BROKERS: 'localhost' });
    expect(code).toBe(78);
    expect(output).toContain("KAFKA_BROKERS: 'localhost' is not host:port");
  });
});

describe('dockerProblem', () => {
  it('asks the DOCKER_HOST that is set, not an engine found elsewhere', async () => {
    const elsewhere = () => Promise.resolve('an engine on the default socket');
    expect(await dockerProblem({ DOCKER_HOST: DEAD_DOCKER }, elsewhere)).toContain(`DOCKER_HOST=${DEAD_DOCKER}`);
    expect(await dockerProblem({}, elsewhere)).toBeUndefined();
  });

  it('passes on why no engine was found', async () => {
    expect(await dockerProblem({}, () => Promise.reject(new Error('Could not find a working container runtime strategy')))).toBe(
      'Could not find a working container runtime strategy',
    );
  });
});
