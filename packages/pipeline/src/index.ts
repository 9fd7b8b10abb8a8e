export { affectedServices, outdatedServices } from './affected.js';
export type { AffectedOptions } from './affected.js';
export { imageTag } from './image-tag.js';
export type { ImageTagOptions } from './image-tag.js';
export { runSmoke, SMOKE_STEPS } from './smoke.js';
export type { SmokeOptions, SmokeResult, SmokeStep, SmokeStepResult } from './smoke.js';
