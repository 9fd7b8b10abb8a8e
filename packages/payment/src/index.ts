export { paymentDomain } from './payment.domain.js';
export { APPROVED_TOKEN, DECLINED_TOKEN } from './simulated.provider.js';
