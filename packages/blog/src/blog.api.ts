import { z } from 'zod';
import { IdParam, TimeIdPageQuery } from '@portal/contracts/api';
import { Comment, CommentPage, NewComment, NewPost, Post, PostPage } from '@portal/contracts/api/blog';
import type { RouteDoc } from '@portal/http';

const ById = z.object({ id: IdParam });

export const BLOG_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/blog/posts',
    summary: 'Write a post; the signed-in user is its author',
    auth: true,
    body: NewPost,
    responses: { 201: { description: 'the new post', schema: Post } },
  },
  {
    method: 'get',
    path: '/api/blog/posts',
    summary: 'Posts, newest first',
    query: TimeIdPageQuery,
    responses: { 200: { description: 'a page of posts', schema: PostPage } },
  },
  {
    method: 'get',
    path: '/api/blog/posts/{id}',
    summary: 'One post, with its number of comments',
    params: ById,
    responses: { 200: { description: 'the post', schema: Post } },
  },
  {
    method: 'post',
    path: '/api/blog/posts/{id}/comments',
    summary: 'Comment on a post; the signed-in user is the author of the comment',
    auth: true,
    params: ById,
    body: NewComment,
    responses: { 201: { description: 'the new comment', schema: Comment } },
  },
  {
    method: 'get',
    path: '/api/blog/posts/{id}/comments',
    summary: 'Comments on a post, oldest first',
    params: ById,
    query: TimeIdPageQuery,
    responses: { 200: { description: 'a page of comments', schema: CommentPage } },
  },
];
