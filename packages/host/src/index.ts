export { runHost, startHost } from './host.js';
export type { Host, HostOptions } from './host.js';
export type { DomainContext, DomainDefinition, DomainName } from './domain.js';
