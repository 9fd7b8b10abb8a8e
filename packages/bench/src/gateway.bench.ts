// The gateway's cost, measured against the same upstream in one run: the
// upstream alone, behind nginx (a reverse proxy with keep-alive upstream
// connections, the usual yardstick), and behind our gateway with every edge
// policy on (request id, CORS, rate limit, body limit, auth check, discovery,
// round-robin, breaker). Machines here are too noisy for absolute figures; the
// ratio to nginx is the result.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitUntil } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { atLeast, atMost, goalLine, load, processCpuMs, table } from './load.ts';
import type { LoadResult } from './load.ts';

const GOAL_THROUGHPUT = atLeast(0.5);
const GOAL_P99 = atMost(2);
/** Issue #15: the gateway may spend at most 1.5 times nginx's CPU on a proxied request. */
const GOAL_CPU = atMost(1.5);
const PATH = '/api/webtoon/episodes/11111111-1111-4111-8111-000000000001';
const BODY = JSON.stringify({ id: '11111111-1111-4111-8111-000000000001', title: 'Episode 1', number: 1, free: true });

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const say = (line: string) => process.stderr.write(`[bench:gateway] ${line}\n`);
const app = (name: string) => fileURLToPath(new URL(`../../../apps/${name}/dist/main.js`, import.meta.url));

/** nginx as a plain reverse proxy: one worker (the gateway is one process too), keep-alive to the upstream, no logs. */
async function startNginx(upstream: string, dir: string): Promise<{ url: string; pid: number; stop(): void } | undefined> {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return undefined;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream bench { server ${new URL(upstream).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://bench; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('nginx', 10_000, async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const res = await fetch(`${url}${PATH}`);
    if (!res.ok) throw new Error(`nginx answered ${res.status}`);
  });
  return { url, pid: child.pid ?? 0, stop: () => void child.kill('SIGTERM') };
}

const started: ServiceProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
let nginx: { url: string; pid: number; stop(): void } | undefined;
try {
  const bare = await startProcess(fileURLToPath(new URL('./bare-server.js', import.meta.url)), { env: { BODY } });
  started.push(bare);
  nginx = await startNginx(bare.url, dir);
  if (!nginx) say('nginx is not installed (Debian: apt-get install nginx-light): measuring without it');
  const gateway = await startProcess(app('gateway'), {
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      WEBTOON_URLS: bare.url,
      // On, so its cost is measured, but above what one client sends here.
      RATE_LIMIT_PER_SECOND: '10000000',
      RATE_LIMIT_BURST: '10000000',
    },
  });
  started.push(gateway);

  say(`${seconds} s per target (after a short warm-up), ${connections} connections, GET ${PATH}`);
  const results: LoadResult[] = [];
  // The CPU of what answers: the upstream alone, nginx (master and worker), the gateway; the upstream behind them is the same in each.
  const targets: [string, string, number[]][] = [['direct', bare.url, [bare.child.pid ?? 0]]];
  if (nginx) targets.push(['nginx', nginx.url, [nginx.pid]]);
  targets.push(['gateway', gateway.url, [gateway.child.pid ?? 0]]);
  for (const [name, base, pids] of targets) {
    say(`loading ${name}`);
    results.push(await load(name, `${base}${PATH}`, { seconds, connections, cpuOf: () => processCpuMs(pids) }));
  }
  console.log(table(results));

  const byName = new Map(results.map((r) => [r.name, r]));
  const gw = byName.get('gateway');
  const ref = byName.get('nginx');
  // A goal is the gateway's: its own failed requests miss it; the reference's are said beside the figure.
  const failed = (gw?.errors ?? 0) + (gw?.non2xx ?? 0);
  const refFailed = (ref?.errors ?? 0) + (ref?.non2xx ?? 0);
  const noNginx = 'nginx not installed (Debian: apt-get install nginx-light)';
  const ratio = (of: (r: LoadResult) => number) => (gw && ref ? of(gw) / of(ref) : undefined);
  const note = refFailed > 0 ? ` [nginx: ${refFailed} requests failed]` : '';
  console.log(goalLine('gateway/nginx throughput', ratio((r) => r.requestsPerSecond), GOAL_THROUGHPUT, failed, noNginx) + note);
  console.log(goalLine('gateway/nginx p99', ratio((r) => r.p99Ms), GOAL_P99, failed, noNginx) + note);
  const cpu = gw?.serverCpuUs !== undefined && ref?.serverCpuUs !== undefined ? gw.serverCpuUs / ref.serverCpuUs : undefined;
  console.log(
    goalLine('CPU per proxied request, gateway/nginx', cpu, GOAL_CPU, failed, noNginx) +
      (cpu === undefined ? '' : ` [gateway ${gw?.serverCpuUs?.toFixed(0)} us, nginx ${ref?.serverCpuUs?.toFixed(0)} us]`),
  );
} finally {
  nginx?.stop();
  for (const service of started.reverse()) await service.stop('SIGTERM').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
