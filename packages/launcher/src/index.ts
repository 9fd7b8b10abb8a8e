export { dockerProblem, launch, noKafkaMessage } from './launcher.js';
export type { LaunchOptions } from './launcher.js';
