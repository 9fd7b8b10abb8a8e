export { createWebtoonDomain, webtoonDomain } from './webtoon.domain.js';
export { DEMO } from './demo.seed.js';
export type { WebtoonOptions } from './webtoon.tokens.js';
