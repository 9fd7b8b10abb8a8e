import { runHost } from '@portal/host';
import { blogDomain } from '@portal/blog';

await runHost({ service: 'blog', domains: [blogDomain], defaultPort: 3002 });
