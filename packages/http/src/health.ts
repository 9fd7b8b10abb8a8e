import { Controller, Get, Inject, Module, Res } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** A readiness check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<void>;

const CHECKS = Symbol('READINESS_CHECKS');
const CHECK_TIMEOUT_MS = 2_000;

@Controller('health')
class HealthController {
  constructor(@Inject(CHECKS) private readonly checks: Record<string, ReadinessCheck>) {}

  /** Liveness: the process serves requests. Cheap on purpose; it checks nothing else. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: every dependency answers (database, Kafka), each within a bound. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
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
    const ok = results.every(([, state]) => state === 'ok');
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  }
}

@Module({})
export class HealthModule {
  static register(checks: Record<string, ReadinessCheck>): DynamicModule {
    return { module: HealthModule, controllers: [HealthController], providers: [{ provide: CHECKS, useValue: checks }] };
  }
}
