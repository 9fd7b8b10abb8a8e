import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './process.stack.js';
import type { Deployer, ShapeName, Stack } from './stack.js';

// src/ and dist/ are both two levels below the package, three below the repository.
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'deploy/compose/docker-compose.yml');
const BUILD_IMAGES = join(ROOT, 'deploy/docker/build-images.sh');
const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;
type Service = (typeof SERVICES)[number];
const SERVICE_PORTS: Record<Service, number> = { news: 3001, blog: 3002, webtoon: 3003, payment: 3004, auth: 3005, analytics: 3006 };
const PAYMENT_CRASH = 'crash-in-payment';
const MINUTE = 60_000;
/**
 * Docker runs the first health check one interval after the start, so the
 * committed 10 s would round every start-up up by as much; each check is a
 * `node` start in the container, so much shorter would take CPU from the load.
 */
const APP_HEALTH_INTERVAL = '3s';

/** The apps each shape runs, as Compose services; their databases and broker come with them. */
export const SHAPE_APPS: Readonly<Record<ShapeName, readonly string[]>> = {
  monolith: ['monolith'],
  services: [...SERVICES, 'gateway'],
};
const SHAPE_BACKING: Readonly<Record<ShapeName, readonly string[]>> = { monolith: ['postgres'], services: ['postgres', 'kafka'] };

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/** Bytes in use from `docker stats`' MemUsage column, e.g. "123.4MiB / 7.6GiB" (usage / limit). */
export function parseMemoryUsage(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*(?:\/|$)/i.exec(text);
  const factor = match?.[2] ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new Error(`docker stats: cannot read the memory usage '${text}'`);
  return Math.round(Number(match[1]) * factor);
}

/** The Compose command to use: the v2 plugin if it answers, else docker-compose (v1.29+); undefined for neither. */
export function chooseCompose(found: { readonly plugin: boolean; readonly standalone: boolean }): readonly string[] | undefined {
  if (found.plugin) return ['docker', 'compose'];
  if (found.standalone) return ['docker-compose'];
  return undefined;
}

/** The same URL form as the committed file, so <NAME>_DB_PASSWORD still applies. */
const databaseUrl = (service: Service) => `postgres://${service}:\${${service.toUpperCase()}_DB_PASSWORD:-${service}-local-only}@postgres:5432/${service}`;

/**
 * What the comparison changes in the committed Compose file, as an override
 * (JSON is YAML): demo data on, health checked often enough to time start-up,
 * the gateway's per-address rate limit out of the way (all load comes from
 * one address), and the monolith on the same PostgreSQL server as the
 * services, a database per module, instead of its embedded ones.
 */
export function composeOverride(shape: ShapeName): { services: Record<string, Record<string, unknown>> } {
  const health = { interval: APP_HEALTH_INTERVAL };
  // pg_isready is a small C program: checking every second costs nothing.
  const postgres = { healthcheck: { interval: '1s' } };
  if (shape === 'monolith') {
    return {
      services: {
        postgres,
        monolith: {
          environment: { SEED_DEMO_DATA: 'true', ...Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, databaseUrl(s)])) },
          depends_on: { postgres: { condition: 'service_healthy' } },
          healthcheck: health,
        },
      },
    };
  }
  return {
    services: {
      postgres,
      ...Object.fromEntries(SERVICES.map((s) => [s, { environment: { SEED_DEMO_DATA: 'true' }, healthcheck: health }])),
      gateway: { environment: { RATE_LIMIT_PER_SECOND: '10000000', RATE_LIMIT_BURST: '10000000' }, healthcheck: health },
    },
  };
}

/**
 * Recreates what hosts payment with the crash armed. Restart "no", or Docker
 * would bring it back inside the window. No init process: the image runs as
 * it ships, node as PID 1 (the fault exits at once where the kernel drops its
 * SIGKILL to itself, see packages/host/src/faults.ts).
 */
export function crashOverride(service: string): { services: Record<string, Record<string, unknown>> } {
  return { services: { [service]: { environment: { FAULT_INJECTION: PAYMENT_CRASH }, restart: 'no' } } };
}

export interface ContainerInfo {
  readonly id: string;
  readonly service: string;
  readonly number: number;
  readonly status: string;
  /** healthy, unhealthy, starting, or none (no health check). */
  readonly health: string;
  readonly image: string;
  readonly ip: string;
}

/** `docker inspect -f INSPECT_FORMAT` output, one container a line. */
export const INSPECT_FORMAT =
  '{{.Id}}|{{index .Config.Labels "com.docker.compose.service"}}|{{index .Config.Labels "com.docker.compose.container-number"}}|' +
  '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.Config.Image}}|{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}';

export function parseContainers(text: string): ContainerInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', service = '', number = '1', status = '', health = '', image = '', ip = ''] = line.trim().split('|');
      return { id, service, number: Number(number) || 1, status, health, image, ip };
    });
}

/**
 * The bytes `docker save` writes for these images together. Its archive holds
 * each layer once however many images share it (the Node base under every app,
 * Debian under Kafka and PostgreSQL), as a registry and a node's disk do, so
 * the shapes' figures count shared layers once.
 */
function savedBytes(images: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(bytes);
      else reject(new Error(`docker save ${images.join(' ')} exited ${String(code)}: ${stderr.trim()}`));
    });
  });
}

/** A part's name in the report: the Compose service, with the replica number from the second on (webtoon, webtoon-2). */
export const partName = (c: Pick<ContainerInfo, 'service' | 'number'>) => (c.number > 1 ? `${c.service}-${c.number}` : c.service);

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const lines = (chunk: string) => {
      if (!options.onLine) return;
      const all = (partial + chunk).split('\n');
      partial = all.pop() ?? '';
      for (const line of all) if (line.trim()) options.onLine(line.trimEnd());
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      lines(chunk.toString());
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      lines(chunk.toString());
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (partial.trim()) options.onLine?.(partial.trimEnd());
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed: ${signal}, after ${options.timeoutMs} ms)` : stderr });
    });
  });
}

async function mustRun(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const ran = await run(command, args, options);
  if (ran.code !== 0) {
    const tail = `${ran.stdout}\n${ran.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited ${ran.code}:\n${tail}`);
  }
  return ran.stdout;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type DockerCheck =
  | { readonly ok: true; readonly server: string; readonly compose: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const INSTALL =
  'container mode needs Docker Engine (https://docs.docker.com/engine/install/; Debian: apt-get install docker.io) ' +
  'and Docker Compose (the `docker compose` plugin, or docker-compose v1.29+; Debian: apt-get install docker-compose)';

/** Whether a Docker engine answers and which Compose command is here; the reason when not. */
export async function checkDocker(): Promise<DockerCheck> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 });
  if (info.code === 127) return { ok: false, reason: `docker is not installed; ${INSTALL}` };
  if (info.code !== 0 || !info.stdout.trim()) {
    return { ok: false, reason: `no Docker engine answers (${(info.stderr.trim().split('\n')[0] ?? '').slice(0, 200)}); start dockerd, or install: ${INSTALL}` };
  }
  const [plugin, standalone] = await Promise.all([
    run('docker', ['compose', 'version'], { timeoutMs: 30_000 }),
    run('docker-compose', ['version'], { timeoutMs: 30_000 }),
  ]);
  const compose = chooseCompose({ plugin: plugin.code === 0, standalone: standalone.code === 0 });
  if (!compose) return { ok: false, reason: `Docker ${info.stdout.trim()} answers, but neither \`docker compose\` nor \`docker-compose\` does; ${INSTALL}` };
  return { ok: true, server: info.stdout.trim(), compose };
}

export interface ContainerDeployerOptions {
  /** Image tag, portal/<app>:<tag> (default PORTAL_TAG, else `local`, as `npm run up`). */
  readonly tag?: string;
  /** 'missing' builds only absent images; 'always' runs the build (cached layers make it quick when nothing changed). */
  readonly build?: 'missing' | 'always';
  /** Compose project names are `<prefix>-<shape>`. */
  readonly projectPrefix?: string;
  readonly log?: (line: string) => void;
}

interface Context {
  readonly compose: readonly string[];
  readonly project: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

/** Stacks up right now, taken down if the process is interrupted (Ctrl-C) rather than left running. */
const live = new Set<ContainerStack>();
const onSignal = (signal: NodeJS.Signals) => {
  for (const stack of live) stack.stopNow();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
function track(stack: ContainerStack, on: boolean): void {
  if (on) live.add(stack);
  else live.delete(stack);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeListener(signal, onSignal);
    if (live.size > 0) process.on(signal, onSignal);
  }
}

class ContainerStack implements Stack {
  readonly mode = 'container' as const;
  startupMs = 0;
  private names: string[] = [];
  private readonly files = [COMPOSE_FILE];
  private stopped = false;

  constructor(
    readonly shape: ShapeName,
    readonly baseUrl: string,
    private readonly ctx: Context,
  ) {}

  private composeArgs(args: readonly string[]): [string, string[]] {
    const [command = 'docker-compose', ...pre] = this.ctx.compose;
    return [command, [...pre, ...this.files.flatMap((f) => ['-f', f]), ...args]];
  }

  private compose(args: readonly string[], timeoutMs = 10 * MINUTE): Promise<string> {
    const [command, all] = this.composeArgs(args);
    return mustRun(command, all, { env: this.ctx.env, timeoutMs, onLine: (line) => this.ctx.log(`${this.shape}:   ${line}`) });
  }

  async addFile(name: string, content: object): Promise<void> {
    const file = join(this.ctx.dir, name);
    await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
    this.files.push(file);
  }

  /** Every container of the project, running or not. */
  async containers(): Promise<ContainerInfo[]> {
    const ids = (await mustRun('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.ctx.project}`])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    return parseContainers(await mustRun('docker', ['inspect', '-f', INSPECT_FORMAT, ...ids]));
  }

  private async running(): Promise<ContainerInfo[]> {
    return (await this.containers()).filter((c) => c.status === 'running');
  }

  /** Until every container runs and is healthy (or has no health check); fails at once, with its log, on one that exited or is unhealthy. */
  async waitHealthy(timeoutMs = 10 * MINUTE): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = -1;
    for (;;) {
      const all = await this.containers();
      const bad = all.filter((c) => c.status === 'exited' || c.status === 'dead' || c.health === 'unhealthy');
      if (bad.length > 0) throw new Error(`${this.shape}: ${bad.map(partName).join(', ')} failed:\n${await this.logsOf(bad)}`);
      const ready = all.filter((c) => c.status === 'running' && (c.health === 'healthy' || c.health === 'none'));
      if (all.length > 0 && ready.length === all.length) return;
      if (performance.now() > deadline) {
        throw new Error(`${this.shape}: not healthy within ${timeoutMs} ms: ${all.filter((c) => !ready.includes(c)).map((c) => `${partName(c)} (${c.status}, ${c.health})`).join(', ')}`);
      }
      if (ready.length !== last) {
        this.ctx.log(`${this.shape}: ${ready.length}/${all.length} containers healthy`);
        last = ready.length;
      }
      await delay(250);
    }
  }

  private async logsOf(containers: readonly ContainerInfo[]): Promise<string> {
    const logs = await Promise.all(
      containers.map(async (c) => {
        const ran = await run('docker', ['logs', '--tail', '30', c.id]);
        return `--- ${partName(c)} (${c.status}, ${c.health}), its last lines:\n${`${ran.stdout}${ran.stderr}`.trim()}`;
      }),
    );
    return logs.join('\n');
  }

  /** The gateway's own view of its upstreams, from its admin API on the container's loopback. */
  private async upstreams(): Promise<Map<string, string[]>> {
    const gateway = (await this.running()).find((c) => c.service === 'gateway');
    if (!gateway) throw new Error('services: the gateway container is not running');
    const script = "fetch('http://127.0.0.1:9876/upstreams').then((r) => r.text()).then((t) => process.stdout.write(t))";
    const out = await mustRun('docker', ['exec', gateway.id, 'node', '-e', script], { timeoutMs: 30_000 });
    const { services } = JSON.parse(out) as { services: { service: string; instances: { url: string }[] }[] };
    return new Map(services.map((s) => [s.service, s.instances.map((i) => i.url).sort()]));
  }

  /** Until the gateway's DNS discovery lists exactly these instances of `service` (or, without `urls`, at least one of every service). */
  private async waitGatewaySees(what: string, matches: (upstreams: Map<string, string[]>) => boolean, timeoutMs = MINUTE): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let seen: Map<string, string[]> | string;
    for (;;) {
      try {
        seen = await this.upstreams();
        if (matches(seen)) return;
      } catch (error) {
        seen = error instanceof Error ? error.message : String(error);
      }
      if (performance.now() > deadline) {
        throw new Error(`services: the gateway did not see ${what} within ${timeoutMs} ms; it lists ${typeof seen === 'string' ? seen : JSON.stringify(Object.fromEntries(seen))}`);
      }
      await delay(500);
    }
  }

  private async instancesOf(service: Service): Promise<string[]> {
    return (await this.running())
      .filter((c) => c.service === service)
      .map((c) => `http://${c.ip}:${SERVICE_PORTS[service]}`)
      .sort();
  }

  private async waitGatewayInstances(service: Service): Promise<void> {
    const expected = await this.instancesOf(service);
    await this.waitGatewaySees(`${service} at ${expected.join(', ')}`, (u) => JSON.stringify(u.get(service) ?? []) === JSON.stringify(expected));
  }

  private async refreshNames(): Promise<void> {
    const order = [...SHAPE_APPS[this.shape], ...SHAPE_BACKING[this.shape]];
    this.names = (await this.running())
      .sort((a, b) => order.indexOf(a.service) - order.indexOf(b.service) || a.number - b.number)
      .map(partName);
  }

  async up(): Promise<void> {
    const began = performance.now();
    // --no-build: the images come from build-images.sh, the one recipe, not from Compose.
    try {
      await this.compose(['up', '-d', '--no-build', ...SHAPE_APPS[this.shape], ...SHAPE_BACKING[this.shape]]);
    } catch (error) {
      // Compose names the container it gave up on, not why: its log says.
      const bad = (await this.containers()).filter((c) => c.status !== 'running' || c.health === 'unhealthy');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${await this.logsOf(bad)}`, { cause: error });
    }
    await this.waitHealthy();
    if (this.shape === 'services') {
      await this.waitGatewaySees('an instance of every service', (u) => SERVICES.every((s) => (u.get(s)?.length ?? 0) > 0));
    }
    this.startupMs = performance.now() - began;
    await this.refreshNames();
  }

  parts(): readonly string[] {
    return this.names;
  }

  async memoryBytes(): Promise<number> {
    const ids = (await this.running()).map((c) => c.id);
    if (ids.length === 0) return 0;
    const out = await mustRun('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', ...ids], { timeoutMs: 30_000 });
    return out
      .split('\n')
      .filter((line) => line.trim())
      .reduce((sum, line) => sum + parseMemoryUsage(line), 0);
  }

  async imageBytes(): Promise<number | undefined> {
    // Exited containers too: after the drill, what hosted payment has stopped, and its image still counts.
    const images = [...new Set((await this.containers()).map((c) => c.image))];
    if (images.length === 0) return undefined;
    return savedBytes(images);
  }

  async armPaymentCrash(): Promise<{ crashed: Promise<number> }> {
    const service = this.shape === 'monolith' ? 'monolith' : 'payment';
    await this.addFile('crash.yml', crashOverride(service));
    await this.compose(['up', '-d', '--no-build', '--no-deps', '--force-recreate', service]);
    await this.waitHealthy();
    const host = (await this.running()).find((c) => c.service === service);
    if (!host) throw new Error(`${this.shape}: ${service} is not running after its restart`);
    // `docker wait` returns when the container's process exits, however it does.
    const crashed = run('docker', ['wait', host.id]).then(() => performance.now());
    if (this.shape === 'services') await this.waitGatewayInstances('payment');
    return { crashed };
  }

  async scaleWebtoon(replicas: number): Promise<void> {
    if (this.shape !== 'services') throw new Error('the monolith scales only as a whole: webtoon cannot be scaled alone');
    if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError(`replicas must be a whole number >= 1, got ${replicas}`);
    await this.compose(['up', '-d', '--no-build', '--no-deps', '--no-recreate', '--scale', `webtoon=${replicas}`, 'webtoon']);
    await this.waitHealthy();
    const running = await this.instancesOf('webtoon');
    if (running.length !== replicas) throw new Error(`services: ${running.length} webtoon containers running, expected ${replicas}`);
    // Measurements start with every replica in rotation: Docker's DNS has them at once, the gateway at its next refresh.
    await this.waitGatewayInstances('webtoon');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const [command, args] = this.composeArgs(['down', '-v', '--remove-orphans', '--timeout', '10']);
    const ran = await run(command, args, { env: this.ctx.env, timeoutMs: 5 * MINUTE });
    if (ran.code !== 0) this.ctx.log(`${this.shape}: \`down\` failed (${ran.code}); remove it with: ${command} ${args.join(' ')} (COMPOSE_PROJECT_NAME=${this.ctx.project})\n${ran.stderr.trim()}`);
    await rm(this.ctx.dir, { recursive: true, force: true });
    track(this, false);
  }

  /** stop(), synchronously: for a signal, when nothing asynchronous will run any more. */
  stopNow(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.stderr.write(`[compare] interrupted: removing ${this.ctx.project}\n`);
    const [command, args] = this.composeArgs(['down', '-v', '--remove-orphans', '--timeout', '5']);
    spawnSync(command, args, { cwd: ROOT, env: this.ctx.env, stdio: 'ignore', timeout: 2 * MINUTE });
    rmSync(this.ctx.dir, { recursive: true, force: true });
  }
}

async function ensureImages(apps: readonly string[], tag: string, build: 'missing' | 'always', log: (line: string) => void): Promise<void> {
  const created = await Promise.all(
    apps.map(async (app) => {
      const inspect = await run('docker', ['image', 'inspect', '--format', '{{.Created}}', `portal/${app}:${tag}`]);
      return inspect.code === 0 ? inspect.stdout.trim().slice(0, 16).replace('T', ' ') : undefined;
    }),
  );
  const wanted = build === 'always' ? apps : apps.filter((_, i) => created[i] === undefined);
  const kept = apps.filter((app) => !wanted.includes(app));
  if (kept.length > 0) {
    // Nothing tells an image from an older tree: say how old they are.
    log(`using the images there are: ${kept.map((app) => `portal/${app}:${tag} (built ${created[apps.indexOf(app)]} UTC)`).join(', ')}; \`PORTAL_TAG=${tag} npm run images\` rebuilds them from this tree`);
  }
  if (wanted.length === 0) return;
  log(`building ${build === 'always' ? '' : 'missing '}images portal/<app>:${tag}: ${wanted.join(' ')} (deploy/docker/build-images.sh; not counted in start-up)`);
  await mustRun('bash', [BUILD_IMAGES, ...wanted], { env: { ...process.env, PORTAL_TAG: tag }, onLine: (line) => log(line) });
}

/**
 * Each shape as its own Compose project from deploy/compose/docker-compose.yml
 * plus an override written at run time: the monolith and PostgreSQL; or
 * Kafka, PostgreSQL, the six services and the gateway. Its own host ports,
 * removed with its volumes when it stops.
 */
export function containerDeployer(options: ContainerDeployerOptions = {}): Deployer {
  const tag = options.tag ?? process.env.PORTAL_TAG ?? 'local';
  const prefix = options.projectPrefix ?? `portal-compare-${process.pid}`;
  const log = options.log ?? (() => undefined);
  let docker: Promise<DockerCheck> | undefined;
  return {
    mode: 'container',
    async start(shape) {
      const found = await (docker ??= checkDocker());
      if (!found.ok) throw new Error(`${found.reason} (or run --mode process)`);
      await ensureImages(SHAPE_APPS[shape], tag, options.build ?? 'missing', log);
      const project = `${prefix}-${shape}`;
      const dir = await mkdtemp(join(tmpdir(), `${project}-`));
      const [gateway, monolith, prometheus, grafana] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        COMPOSE_PROJECT_NAME: project,
        // The monolith's service has a profile; naming it starts it, and `down` must see it too.
        COMPOSE_PROFILES: 'monolith',
        PORTAL_TAG: tag,
        GATEWAY_PORT: String(gateway),
        MONOLITH_PORT: String(monolith),
        PROMETHEUS_PORT: String(prometheus),
        GRAFANA_PORT: String(grafana),
        LOG_LEVEL: 'warn',
      };
      delete env.COMPOSE_FILE;
      const baseUrl = `http://127.0.0.1:${shape === 'monolith' ? monolith : gateway}`;
      const stack = new ContainerStack(shape, baseUrl, { compose: found.compose, project, dir, env, log });
      track(stack, true);
      try {
        await stack.addFile('override.yml', composeOverride(shape));
        log(`${shape}: project ${project} with ${found.compose.join(' ')} (Docker ${found.server}), images portal/<app>:${tag}, at ${baseUrl}`);
        await stack.up();
        return stack;
      } catch (error) {
        await stack.stop();
        throw error;
      }
    },
  };
}
