export { runGateway, startGateway } from './gateway.js';
export type { Gateway } from './gateway.js';
export { SERVICES, gatewayConfig } from './gateway.config.js';
export type { Discovery, GatewayConfig, ServiceName } from './gateway.config.js';
export { dnsResolver, staticResolver } from './discovery.resolver.js';
export type { InstanceResolver } from './discovery.resolver.js';
export type { InstanceSnapshot, ServiceSnapshot } from './upstream.pool.js';
