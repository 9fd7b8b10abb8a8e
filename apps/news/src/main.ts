import { runHost } from '@portal/host';
import { newsDomain } from '@portal/news';

await runHost({ service: 'news', domains: [newsDomain], defaultPort: 3001 });
