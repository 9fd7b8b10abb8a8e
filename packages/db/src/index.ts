export { DEFAULT_TIMEOUTS, isUnavailable, isUniqueViolation, openDatabase } from './database.js';
export type { Database, DatabaseOptions, DatabaseTimeouts, Queryable, QueryResult } from './database.js';
export { migrate } from './migrate.js';
export type { Migration } from './migrate.js';
