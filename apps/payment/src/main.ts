import { runHost } from '@portal/host';
import { paymentDomain } from '@portal/payment';

await runHost({ service: 'payment', domains: [paymentDomain], defaultPort: 3004 });
