import { fileURLToPath } from 'node:url';
import { startProcess } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface Echo {
  instance: string;
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  bytes: number;
}

/** A stand-in service instance (fixtures/upstream.mjs) as its own process. */
export const startUpstream = (instance: string, env: Record<string, string> = {}) =>
  startProcess(fixture('upstream.mjs'), { env: { INSTANCE: instance, ...env }, timeoutMs: 10_000 });

export interface GatewayProcess extends ServiceProcess {
  readonly adminUrl: string;
  /** The internal port's GET /metrics, in full. */
  readonly metricsUrl: string;
}

/** The gateway as a process, the way its app runs it, with `env` on top of quiet defaults. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const gateway = await startProcess(fixture('gateway.mjs'), {
    env: { PORT: '0', ADMIN_PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    timeoutMs: 30_000,
  });
  const admin = /admin (http:\/\/\S+?),/.exec(gateway.output())?.[1];
  const metrics = /metrics (http:\/\/\S+?),/.exec(gateway.output())?.[1];
  if (!admin || !metrics) throw new Error(`no admin or metrics address in the ready line:\n${gateway.output()}`);
  return Object.assign(gateway, { adminUrl: admin, metricsUrl: metrics });
}

/** Runs `work` from `workers` loops at once until `ms` have passed; returns each status seen. */
export async function underLoad(ms: number, workers: number, work: () => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) statuses.push(await work().catch(() => 0));
    }),
  );
  return statuses;
}

export const count = <T>(items: readonly T[], keep: (item: T) => boolean) => items.filter(keep).length;
