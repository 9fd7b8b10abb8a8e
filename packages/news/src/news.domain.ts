import type { DomainDefinition } from '@portal/host';
import { NEWS_ROUTES } from './news.api.js';
import { NEWS_MIGRATIONS } from './news.migrations.js';
import { NewsModule } from './news.module.js';

export const newsDomain: DomainDefinition = {
  name: 'news',
  migrations: NEWS_MIGRATIONS,
  module: (context) => NewsModule.register(context),
  api: {
    info: {
      title: 'news',
      version: '1',
      description: 'Articles filed under a fixed set of categories. Publishing one emits article.published.',
    },
    routes: NEWS_ROUTES,
  },
};
