/** The DomainContext the host gives this module. */
export const ANALYTICS_CONTEXT = Symbol('ANALYTICS_CONTEXT');

/** The consumer group: every analytics replica shares it, so each event is counted by one of them. */
export const ANALYTICS_GROUP = 'analytics';
