import { runHost } from '@portal/host';
import { authDomain } from '@portal/auth';
import { newsDomain } from '@portal/news';
import { blogDomain } from '@portal/blog';
import { webtoonDomain } from '@portal/webtoon';
import { paymentDomain } from '@portal/payment';

await runHost({ service: 'monolith', domains: [authDomain, newsDomain, blogDomain, webtoonDomain, paymentDomain], defaultPort: 3000, shape: 'monolith' });
