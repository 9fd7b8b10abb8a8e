import { Body, Controller, Get, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { IdParam } from '@portal/contracts/api';
import type { Page } from '@portal/contracts/api';
import { ArticleQuery, CategoryQuery, NewArticle } from '@portal/contracts/api/news';
import type { Article, Category } from '@portal/contracts/api/news';
import { AuthGuard, CurrentUser } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { NewsService } from './news.service.js';

/** The part of Fastify's request used here: its id is the trace id of the events it causes. */
interface RequestWithId {
  readonly id: string;
}

@Controller('api/news')
export class NewsController {
  constructor(@Inject(NewsService) private readonly news: NewsService) {}

  @Get('categories')
  categories(@Query({ schema: CategoryQuery }) query: CategoryQuery): Promise<Page<Category>> {
    return this.news.listCategories(query);
  }

  @Post('articles')
  @UseGuards(AuthGuard)
  publish(@CurrentUser() user: AuthenticatedUser, @Body({ schema: NewArticle }) body: NewArticle, @Req() request: RequestWithId): Promise<Article> {
    return this.news.publish({ ...body, authorId: user.userId, traceId: request.id });
  }

  @Get('articles')
  articles(@Query({ schema: ArticleQuery }) query: ArticleQuery): Promise<Page<Article>> {
    return this.news.listArticles(query);
  }

  @Get('articles/:id')
  article(@Param('id', { schema: IdParam }) id: string): Promise<Article> {
    return this.news.getArticle(id);
  }
}
