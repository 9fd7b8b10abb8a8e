import { runHost } from '@portal/host';
import { analyticsDomain } from '@portal/analytics';

await runHost({ service: 'analytics', domains: [analyticsDomain], defaultPort: 3006 });
