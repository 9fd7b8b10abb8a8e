import type { DomainDefinition } from '@portal/host';
import { BLOG_ROUTES } from './blog.api.js';
import { BLOG_MIGRATIONS } from './blog.migrations.js';
import { BlogModule } from './blog.module.js';

export const blogDomain: DomainDefinition = {
  name: 'blog',
  migrations: BLOG_MIGRATIONS,
  module: (context) => BlogModule.register(context),
  api: {
    info: {
      title: 'blog',
      version: '1',
      description: 'Posts and their comments. Writing a post emits post.created; a comment emits comment.added, keyed by its post.',
    },
    routes: BLOG_ROUTES,
  },
};
