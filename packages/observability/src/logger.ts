import { AsyncLocalStorage } from 'node:async_hooks';

export type LogFields = Record<string, unknown>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The ids of the work in progress (a request, an event), added to every line logged inside it. */
const context = new AsyncLocalStorage<LogFields>();

/** Runs `work` with `fields` on every log line written inside it, however deep. */
export function withLogContext<T>(fields: LogFields, work: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, work);
}

/**
 * Adds `fields` to the rest of the current async flow; for hooks that cannot
 * wrap the work they start (a server's per-request hook).
 */
export function enterLogContext(fields: LogFields): void {
  context.enterWith({ ...context.getStore(), ...fields });
}

/** The fields of the work in progress, e.g. to copy the request id into an event. */
export function currentLogContext(): LogFields {
  return context.getStore() ?? {};
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
}

/** One JSON object per line: time, level, service, msg, the context's ids, then the fields. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const make = (bound: LogFields): Logger => {
    const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
      if (RANK[level] < min) return;
      const line: LogFields = { time: new Date().toISOString(), level, service, msg, ...context.getStore(), ...bound, ...fields };
      if (line.error instanceof Error) line.error = { message: line.error.message, name: line.error.name, stack: line.error.stack };
      write(JSON.stringify(line));
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}
