import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the variables `shape` names from `env`, once, and returns them typed.
 * Every bad or missing variable is reported in one error, each by its name, so
 * the operator fixes them all in one go.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  const picked = Object.fromEntries(
    Object.keys(shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = z.object(shape).safeParse(picked);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(config)');
    const given = picked[name];
    return `  ${name}: ${issue.message}${given === undefined ? ' (not set)' : ` (got '${given}')`}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** A TCP port given as a string in the environment; 0 asks the OS for a free one. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/** A boolean flag given as true/false/1/0 in the environment. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: "expected 'true' or 'false'" })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** What runProcess needs of a started server. */
export interface Closable {
  close(): Promise<void>;
}

/** The two log calls runProcess makes; any of the project's loggers fits. */
export interface ProcessLog {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface RunProcessOptions<T> {
  /** The process's name, for the message a ConfigError prints. */
  readonly name: string;
  readonly start: () => Promise<T>;
  /** Prints the ready line; gets what start returned and how long it took. */
  readonly ready: (started: T, startupMs: number) => void;
  readonly log: (started: T) => ProcessLog;
  /** How long a graceful shutdown may take before the process exits anyway. */
  readonly shutdownBoundMs?: number;
}

/**
 * The life of every server process here, one way: start; a bad setting
 * (ConfigError) ends it with its message and exit code 78 (EX_CONFIG); once
 * up, SIGTERM or SIGINT closes it gracefully and exits 0, or 1 if closing
 * fails or takes longer than the bound.
 */
export async function runProcess<T extends Closable>(options: RunProcessOptions<T>): Promise<T> {
  const began = Date.now();
  let started: T;
  try {
    started = await options.start();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${options.name}: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const log = options.log(started);
  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    // Not unref'd: a close() that never settles with nothing left open would
    // otherwise let Node end on its own, with 0, as if it had closed cleanly.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, options.shutdownBoundMs ?? 10_000);
    started.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Only now: whoever waits for the ready line may stop the process at once,
  // and a signal before the handlers would kill it without closing anything.
  options.ready(started, Date.now() - began);
  return started;
}
