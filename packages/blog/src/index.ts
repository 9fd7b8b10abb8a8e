export { blogDomain } from './blog.domain.js';
export { BLOG_DEMO } from './demo.seed.js';
