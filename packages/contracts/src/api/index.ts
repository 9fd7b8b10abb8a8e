export { IdParam, PageQuery, Problem, Uuid, page } from './common.js';
export type { Page } from './common.js';
