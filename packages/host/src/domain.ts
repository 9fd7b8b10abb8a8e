import type { DynamicModule } from '@nestjs/common';
import type { z } from 'zod';
import type { EventBus } from '@portal/contracts';
import type { Database, Migration } from '@portal/db';
import type { OpenApiInfo, RouteDoc, TokenVerifier } from '@portal/http';
import type { Logger } from '@portal/observability';

export type DomainName = 'auth' | 'news' | 'blog' | 'webtoon' | 'payment' | 'analytics';

/** What the host hands a domain module: its own database and the shared edges. */
export interface DomainContext {
  /** This domain's own database; no other domain sees it. */
  readonly database: Database;
  /** For subscriptions (register them in onModuleInit). Publish through the outbox, never directly. */
  readonly bus: EventBus;
  /** Call after committing a transaction that appended events, so they go out now rather than at the next poll. */
  readonly outbox: { nudge(): void };
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly seedDemoData: boolean;
  /** The values of this domain's own `settings`, parsed. */
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * A domain as the hosts see it. The service app hosts one, the monolith all;
 * the module and its code are the same in both.
 */
export interface DomainDefinition {
  readonly name: DomainName;
  /** Its schema. The host adds MESSAGING_MIGRATION (outbox, inbox) if it is not there. */
  readonly migrations: readonly Migration[];
  /** The NestJS module with its controllers under /api/<name>. */
  module(context: DomainContext): DynamicModule;
  /**
   * Environment variables of its own, checked with the host's at start-up (a
   * bad value stops the process, naming it) and handed over as
   * `context.settings`. Prefix them with the domain's name: in the monolith
   * every domain reads the same environment.
   */
  readonly settings?: z.ZodRawShape;
  /** Its OpenAPI description; the host serves it at /api/<name>/openapi.json. */
  readonly api: { readonly info: OpenApiInfo; readonly routes: readonly RouteDoc[] };
  /**
   * Only the domain that issues tokens (auth) has this: the verifier every
   * domain in the same process uses, without a network round trip.
   */
  localVerifier?(database: Database): Promise<TokenVerifier>;
  /**
   * Deletes what its own tables keep past their use (payment: idempotency
   * keys), with its settings; run by the host on the retention schedule beside
   * the outbox and inbox. Returns the rows deleted.
   */
  prune?(database: Database, settings: Readonly<Record<string, unknown>>): Promise<number>;
}
