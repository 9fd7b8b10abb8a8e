/** The DomainContext the host gives this module. */
export const NEWS_CONTEXT = Symbol('NEWS_CONTEXT');
