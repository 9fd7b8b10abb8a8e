/** The DomainContext the host gives this module. */
export const BLOG_CONTEXT = Symbol('BLOG_CONTEXT');
