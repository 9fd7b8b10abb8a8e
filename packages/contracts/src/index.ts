export { EVENTS, EVENT_NAMES, TOPICS, ContractViolation, createEvent, deadLetterTopic, parseEvent } from './events.js';
export type { AnyDomainEvent, DomainEvent, EventName, EventPayload } from './events.js';
export type { EventBus, Subscription } from './bus.js';
