export { createLogger, currentLogContext, enterLogContext, withLogContext } from './logger.js';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './logger.js';
