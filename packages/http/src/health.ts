import { Controller, Get, Inject, Module, Res } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** A readiness check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<void>;

interface Checks {
  readonly required: Record<string, ReadinessCheck>;
  readonly optional: Record<string, ReadinessCheck>;
}

const CHECKS = Symbol('READINESS_CHECKS');
const CHECK_TIMEOUT_MS = 2_000;

async function run(checks: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, error instanceof Error ? error.message : String(error)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(results);
}

@Controller('health')
class HealthController {
  constructor(@Inject(CHECKS) private readonly checks: Checks) {}

  /** Liveness: the process serves requests. Cheap on purpose; it checks nothing else. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: every required dependency answers, each within a bound. The
   * optional ones are reported beside them ('degraded') and never make the
   * instance unready.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [checks, optional] = await Promise.all([run(this.checks.required), run(this.checks.optional)]);
    const ok = Object.values(checks).every((state) => state === 'ok');
    const degraded = Object.values(optional).some((state) => state !== 'ok');
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable',
      checks,
      ...(Object.keys(optional).length > 0 ? { optional } : {}),
    };
  }
}

@Module({})
export class HealthModule {
  /**
   * `checks` decide readiness; `optional` ones are what the instance can serve
   * without for a while (Kafka: events wait in the outbox), reported only.
   */
  static register(checks: Record<string, ReadinessCheck>, optional: Record<string, ReadinessCheck> = {}): DynamicModule {
    const value: Checks = { required: checks, optional };
    return { module: HealthModule, controllers: [HealthController], providers: [{ provide: CHECKS, useValue: value }] };
  }
}
