/**
 * The Compose file checked offline against the code: images, ports, settings,
 * health gates, what is published. The stack itself runs in stack.spec.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APPS } from '../docker/prune.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;

interface ComposeService {
  image: string;
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  profiles?: string[];
  volumes?: string[];
  entrypoint?: string[];
  command?: string[];
}
const file = parse(readFileSync(`${ROOT}/deploy/compose/docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const services = file.services;

describe('docker-compose.yml', () => {
  it('runs every app from its image, built by the one Dockerfile, read-only, health-checked on readiness', () => {
    for (const app of Object.keys(APPS)) {
      const service = services[app];
      expect(service, app).toBeDefined();
      expect(service?.image, app).toBe(`portal/${app}:\${PORTAL_TAG:-local}`);
      expect(service?.build, app).toMatchObject({ context: '../..', dockerfile: 'deploy/docker/Dockerfile', args: { APP: app } });
      expect(service?.read_only, app).toBe(true);
      expect(service?.healthcheck?.test, app).toEqual(['CMD', 'node', '/app/healthcheck.mjs', 'ready']);
    }
  });

  it('gives each service its own database and user, and the broker, and starts it only when both are healthy', () => {
    const postgres = services.postgres?.environment ?? {};
    for (const name of SERVICES) {
      const env = services[name]?.environment ?? {};
      const password = `\${${name.toUpperCase()}_DB_PASSWORD:-${name}-local-only}`;
      expect(env.DATABASE_URL, name).toBe(`postgres://${name}:${password}@postgres:5432/${name}`);
      expect(postgres[`${name.toUpperCase()}_DB_PASSWORD`], name).toBe(password);
      expect(env.KAFKA_BROKERS, name).toBe('kafka:9092');
      if (name !== 'auth') expect(env.AUTH_JWKS_URL, name).toBe(`http://auth:${APPS.auth}/api/auth/.well-known/jwks.json`);
      expect(services[name]?.depends_on, name).toEqual({ postgres: { condition: 'service_healthy' }, kafka: { condition: 'service_healthy' } });
    }
    expect(services.postgres?.volumes).toContain('../k8s/base/postgres-init.sh:/docker-entrypoint-initdb.d/10-postgres-init.sh:ro');
  });

  it('points the gateway at every service through Docker DNS on the service port, after all are healthy', () => {
    const gateway = services.gateway as ComposeService;
    for (const name of SERVICES) {
      expect(gateway.environment?.[`${name.toUpperCase()}_DNS`], name).toBe(`${name}:${APPS[name]}`);
      expect(gateway.depends_on?.[name], name).toEqual({ condition: 'service_healthy' });
    }
  });

  it('publishes only the gateway, Prometheus, Grafana (and the monolith, in its profile), on 127.0.0.1', () => {
    const published = Object.entries(services).filter(([, s]) => s.ports?.length).map(([name]) => name).sort();
    expect(published).toEqual(['gateway', 'grafana', 'monolith', 'prometheus']);
    for (const name of published) for (const port of services[name]?.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    expect(services.monolith?.profiles).toEqual(['monolith']);
    // --scale needs both: no fixed name, no host port.
    expect(services.webtoon?.container_name).toBeUndefined();
    expect(services.webtoon?.ports).toBeUndefined();
  });

  it('has a health check on every container, and mounts the monitoring files that exist', () => {
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test.length, name).toBeGreaterThan(1);
    for (const service of [services.prometheus, services.grafana]) {
      for (const volume of service?.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('.')) expect(existsSync(`${ROOT}/deploy/compose/${source}`), source).toBe(true);
      }
    }
  });

  it('gives Grafana no default admin password: GRAFANA_ADMIN_PASSWORD, else a random one it prints (its start script, run here)', () => {
    const grafana = services.grafana as ComposeService;
    const raw = readFileSync(`${ROOT}/deploy/compose/docker-compose.yml`, 'utf8');
    // Nothing sets Grafana's own variable to a literal, and GRAFANA_ADMIN_PASSWORD has no fallback but empty.
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD__FILE).toBeUndefined();
    expect(grafana.environment?.GRAFANA_ADMIN_PASSWORD).toBe('${GRAFANA_ADMIN_PASSWORD:-}');
    expect(raw).not.toMatch(/GRAFANA_ADMIN_PASSWORD:-[^}]/);
    expect(grafana.entrypoint).toEqual(['/bin/sh', '-c']);
    // The script as the container's shell gets it (Compose turns $$ into $), with the image's /run.sh replaced by
    // a stand-in that prints what Grafana would read.
    const dir = mkdtempSync(join(tmpdir(), 'grafana-start-'));
    const stub = join(dir, 'run.sh');
    writeFileSync(stub, '#!/bin/sh\necho "GF=$GF_SECURITY_ADMIN_PASSWORD LEFT=${GRAFANA_ADMIN_PASSWORD-unset}"\n');
    chmodSync(stub, 0o755);
    const script = (grafana.command?.[0] ?? '').replaceAll('$$', '$');
    expect(script).toContain('exec /run.sh');
    const start = (env: Record<string, string>) => {
      const result = spawnSync('/bin/sh', ['-c', script.replace('exec /run.sh', `exec ${stub}`)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };
    try {
      const runs = [start({}), start({})];
      for (const out of runs) {
        const generated = /^\[portal\] grafana admin password \(generated, set GRAFANA_ADMIN_PASSWORD to choose one\): ([A-Za-z0-9]{24})$/m.exec(out)?.[1];
        expect(generated, out).toBeDefined();
        expect(out).toContain(`GF=${generated} LEFT=unset`);
      }
      expect(runs[0]).not.toBe(runs[1]);
      const chosen = start({ GRAFANA_ADMIN_PASSWORD: 'chosen-by-me' });
      expect(chosen).toBe('GF=chosen-by-me LEFT=unset\n');
      // `npm run up` prints the generated one, from the log line above.
      expect(readFileSync(`${ROOT}/deploy/scripts/compose.sh`, 'utf8')).toContain("grep -o 'grafana admin password (generated.*'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
