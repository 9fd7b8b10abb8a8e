export { newsDomain } from './news.domain.js';
export { NEWS_DEMO } from './demo.seed.js';
