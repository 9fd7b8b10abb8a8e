import { runHost } from '@portal/host';
import { authDomain } from '@portal/auth';

await runHost({ service: 'auth', domains: [authDomain], defaultPort: 3005 });
