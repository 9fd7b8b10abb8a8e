export { Cursor, IdParam, Problem, TimeIdPageQuery, Uuid, page, pageQuery } from './common.js';
export type { Page, PageQuery } from './common.js';
