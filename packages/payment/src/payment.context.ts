/** Injection token of the DomainContext the host hands the payment module. */
export const PAYMENT_CONTEXT = Symbol('PAYMENT_CONTEXT');
