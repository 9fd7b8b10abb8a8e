import { IdParam } from '@portal/contracts/api';
import { directGetRoute } from '@portal/http';
import { WebtoonService } from './webtoon.service.js';

/**
 * GET /api/webtoon/episodes/:id, reading one episode: the hot path of the
 * whole system. Its own work is a few map lookups (the body is cached,
 * serialised), so as a controller route most of its time went to Nest's
 * router pipeline, the global validation pipe and `@Header`. It is served from
 * the app's Fastify instance instead (see `directGetRoute`), with the same
 * request ids, `param.id` validation, problems (400, 401, 402, 404) and
 * Content-Type. Documented with the other routes in webtoon.api.ts.
 */
export const episodeRoute = directGetRoute({
  path: '/api/webtoon/episodes/:id',
  params: { id: IdParam },
  contentType: 'application/json; charset=utf-8',
  inject: [WebtoonService],
  handler: (webtoon: WebtoonService) => (params, headers) => webtoon.read(params.id as string, headers.authorization),
});
