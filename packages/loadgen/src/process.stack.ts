import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { Deployer, ShapeName, Stack } from './stack.js';

const require = createRequire(import.meta.url);
const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;
type Service = (typeof SERVICES)[number];
const PAYMENT_CRASH = 'crash-in-payment';

/** The built entry point of an app, through its package (the apps are this package's dev dependencies). */
function entryOf(app: string): string {
  const name = app === 'monolith' || app === 'gateway' ? `@portal/${app}` : `@portal/${app}-service`;
  try {
    return require.resolve(name);
  } catch (error) {
    throw new Error(`${name} is not built: run \`npx turbo run build --filter=@portal/loadgen...\` (npm run compare does)`, { cause: error });
  }
}

/** A port free right now on 127.0.0.1; picked up front so every part knows the others' addresses before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The environment of every part: this one's, minus what would point it at other databases, instances or faults. */
function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(DATABASE_URL|DATA_DIR|FAULT_INJECTION|PORT|HOST|ADMIN_PORT|METRICS_PORT)$|_DATABASE_URL$|_URLS$|_DNS$/.test(key)) delete env[key];
  }
  // KAFKA_BROKERS stays: with it, the services talk over Kafka.
  return { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'true' };
}

/** Resident set size of a process, from /proc (Linux) or ps. */
async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    if (kb) return Number(kb) * 1_024;
  } catch {
    // No /proc here (macOS): ask ps.
  }
  const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kb = Number(ps.stdout.trim());
  return Number.isFinite(kb) ? kb * 1_024 : 0;
}

interface Launched {
  readonly name: string;
  readonly child: ChildProcess;
  /** performance.now() when it exited, however it did. */
  readonly exited: Promise<number>;
  stop(): Promise<void>;
}

/** Starts `node <entry>` and resolves at its ready line (`<name> ready on <url>`); fails with its output if it exits first or stays silent. */
function launch(name: string, app: string, env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<Launched> {
  const child = spawn(process.execPath, [entryOf(app)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now())));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(late);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: no ready line within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      // Keep the tail only: the parts log for as long as they run.
      output = (output + chunk.toString()).slice(-20_000);
      if (/ ready on http:\/\/\S+/.test(output)) {
        clearTimeout(timer);
        resolve({ name, child, exited, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${child.exitCode ?? child.signalCode} before it was ready\n${output}`));
    });
  });
}

abstract class ProcessStack implements Stack {
  readonly mode = 'process' as const;
  abstract readonly shape: ShapeName;
  protected readonly running = new Map<string, Launched>();

  constructor(
    readonly baseUrl: string,
    public startupMs: number,
  ) {}

  parts(): readonly string[] {
    return [...this.running.keys()];
  }

  async memoryBytes(): Promise<number> {
    const sizes = await Promise.all([...this.running.values()].map((p) => (p.child.pid ? rssBytes(p.child.pid) : 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  imageBytes(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  abstract armPaymentCrash(): Promise<{ crashed: Promise<number> }>;
  abstract scaleWebtoon(replicas: number): Promise<void>;

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((p) => p.stop()));
    this.running.clear();
  }

  protected add(part: Launched): Launched {
    this.running.set(part.name, part);
    return part;
  }
}

class MonolithStack extends ProcessStack {
  readonly shape = 'monolith' as const;

  constructor(
    private readonly port: number,
    startupMs: number,
    first: Launched,
  ) {
    super(`http://127.0.0.1:${port}`, startupMs);
    this.add(first);
  }

  static async start(): Promise<MonolithStack> {
    const port = await freePort();
    const began = performance.now();
    const monolith = await launch('monolith', 'monolith', { ...baseEnv(), PORT: String(port) });
    return new MonolithStack(port, performance.now() - began, monolith);
  }

  async armPaymentCrash() {
    await this.stop();
    // The payment module's crash is the process's: the fault is armed in the one process there is.
    const armed = this.add(await launch('monolith', 'monolith', { ...baseEnv(), PORT: String(this.port), FAULT_INJECTION: PAYMENT_CRASH }));
    return { crashed: armed.exited };
  }

  scaleWebtoon(): Promise<void> {
    return Promise.reject(new Error('the monolith scales only as a whole: webtoon cannot be scaled alone'));
  }
}

class ServicesStack extends ProcessStack {
  readonly shape = 'services' as const;
  private webtoonPorts: number[];

  constructor(
    private readonly ports: Record<Service | 'gateway' | 'admin' | 'metrics', number>,
    startupMs: number,
  ) {
    super(`http://127.0.0.1:${ports.gateway}`, startupMs);
    this.webtoonPorts = [ports.webtoon];
  }

  private serviceEnv(port: number) {
    return { ...baseEnv(), PORT: String(port), AUTH_JWKS_URL: `http://127.0.0.1:${this.ports.auth}/api/auth/.well-known/jwks.json` };
  }

  private gatewayEnv() {
    const urls = Object.fromEntries(
      SERVICES.map((s) => [`${s.toUpperCase()}_URLS`, (s === 'webtoon' ? this.webtoonPorts : [this.ports[s]]).map((p) => `http://127.0.0.1:${p}`).join(',')]),
    );
    return {
      ...this.serviceEnv(this.ports.gateway),
      ADMIN_PORT: String(this.ports.admin),
      METRICS_PORT: String(this.ports.metrics),
      ...urls,
      // Every request comes from one client address here; the per-address limit would measure itself.
      RATE_LIMIT_PER_SECOND: '10000000',
      RATE_LIMIT_BURST: '10000000',
    };
  }

  private launchService(service: Service, name: string = service, port: number = this.ports[service], extra: Record<string, string> = {}) {
    return launch(name, service, { ...this.serviceEnv(port), ...extra });
  }

  static async start(): Promise<ServicesStack> {
    const names = [...SERVICES, 'gateway', 'admin', 'metrics'] as const;
    const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const))) as Record<(typeof names)[number], number>;
    const began = performance.now();
    const stack = new ServicesStack(ports, 0);
    // Side by side, as `npm start` starts them: the gateway needs no service up to start.
    const parts = await Promise.allSettled([
      ...SERVICES.map((s) => stack.launchService(s)),
      launch('gateway', 'gateway', stack.gatewayEnv()),
    ]);
    for (const part of parts) if (part.status === 'fulfilled') stack.add(part.value);
    const failed = parts.find((p) => p.status === 'rejected');
    if (failed) {
      await stack.stop();
      throw failed.reason;
    }
    stack.startupMs = performance.now() - began;
    return stack;
  }

  async armPaymentCrash() {
    await this.running.get('payment')?.stop();
    const armed = this.add(await this.launchService('payment', 'payment', this.ports.payment, { FAULT_INJECTION: PAYMENT_CRASH }));
    return { crashed: armed.exited };
  }

  async scaleWebtoon(replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError(`replicas must be a whole number >= 1, got ${replicas}`);
    if (replicas === this.webtoonPorts.length) return;
    while (this.webtoonPorts.length > replicas) {
      this.webtoonPorts.pop();
      const name = `webtoon-${this.webtoonPorts.length + 1}`;
      await this.running.get(name)?.stop();
      this.running.delete(name);
    }
    const added = await Promise.all(
      Array.from({ length: replicas - this.webtoonPorts.length }, async (_, i) => {
        const port = await freePort();
        return { port, part: await this.launchService('webtoon', `webtoon-${this.webtoonPorts.length + i + 1}`, port) };
      }),
    );
    for (const { port, part } of added) {
      this.webtoonPorts.push(port);
      this.add(part);
    }
    // Static discovery is read at start: the gateway restarts with the new list, as a deploy would change it.
    await this.running.get('gateway')?.stop();
    this.add(await launch('gateway', 'gateway', this.gatewayEnv()));
  }
}

/** Every part a node process on this machine, with embedded databases; Kafka if KAFKA_BROKERS is set. */
export const processDeployer: Deployer = {
  mode: 'process',
  start: (shape) => (shape === 'monolith' ? MonolithStack.start() : ServicesStack.start()),
};
