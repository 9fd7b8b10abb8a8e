import { Body, Controller, Get, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { IdParam, TimeIdPageQuery } from '@portal/contracts/api';
import type { Page, PageQuery } from '@portal/contracts/api';
import { NewComment, NewPost } from '@portal/contracts/api/blog';
import type { Comment, Post as BlogPost } from '@portal/contracts/api/blog';
import { AuthGuard, CurrentUser } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { BlogService } from './blog.service.js';

/** The part of Fastify's request used here: its id is the trace id of the events it causes. */
interface RequestWithId {
  readonly id: string;
}

@Controller('api/blog/posts')
export class BlogController {
  constructor(@Inject(BlogService) private readonly blog: BlogService) {}

  @Post()
  @UseGuards(AuthGuard)
  create(@CurrentUser() user: AuthenticatedUser, @Body({ schema: NewPost }) body: NewPost, @Req() request: RequestWithId): Promise<BlogPost> {
    return this.blog.createPost(body, { authorId: user.userId, traceId: request.id });
  }

  @Get()
  list(@Query({ schema: TimeIdPageQuery }) query: PageQuery): Promise<Page<BlogPost>> {
    return this.blog.listPosts(query);
  }

  @Get(':id')
  get(@Param('id', { schema: IdParam }) id: string): Promise<BlogPost> {
    return this.blog.getPost(id);
  }

  @Post(':id/comments')
  @UseGuards(AuthGuard)
  comment(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', { schema: IdParam }) id: string,
    @Body({ schema: NewComment }) body: NewComment,
    @Req() request: RequestWithId,
  ): Promise<Comment> {
    return this.blog.addComment(id, body, { authorId: user.userId, traceId: request.id });
  }

  @Get(':id/comments')
  comments(@Param('id', { schema: IdParam }) id: string, @Query({ schema: TimeIdPageQuery }) query: PageQuery): Promise<Page<Comment>> {
    return this.blog.listComments(id, query);
  }
}
