export { analyticsDomain } from './analytics.domain.js';
