import { runHost } from '@portal/host';
import { webtoonDomain } from '@portal/webtoon';

await runHost({ service: 'webtoon', domains: [webtoonDomain], defaultPort: 3003 });
