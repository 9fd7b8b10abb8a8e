export { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce } from './outbox.js';
export type { OutboxRelayOptions } from './outbox.js';
