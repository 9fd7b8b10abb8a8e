import { runHost } from '@portal/host';
import { authDomain } from '@portal/auth';
import { newsDomain } from '@portal/news';
import { blogDomain } from '@portal/blog';
import { webtoonDomain } from '@portal/webtoon';
import { paymentDomain } from '@portal/payment';
import { analyticsDomain } from '@portal/analytics';

await runHost({ service: 'monolith', domains: [authDomain, newsDomain, blogDomain, webtoonDomain, paymentDomain, analyticsDomain], defaultPort: 3000, shape: 'monolith' });
