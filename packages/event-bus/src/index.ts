export { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce, pruneMessaging } from './outbox.js';
export type { MessagingRetention, OutboxRelayOptions } from './outbox.js';
