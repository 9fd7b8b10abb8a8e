// Request and response schemas of the blog API.
import { z } from 'zod';
import { page, prose, title } from './common.js';

export const NewPost = z.object({
  title: title(200),
  body: prose(50_000),
});
export type NewPost = z.infer<typeof NewPost>;

export const Post = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  authorId: z.uuid(),
  createdAt: z.iso.datetime(),
  commentCount: z.int(),
});
export type Post = z.infer<typeof Post>;
export const PostPage = page(Post);

export const NewComment = z.object({
  body: prose(5_000),
});
export type NewComment = z.infer<typeof NewComment>;

export const Comment = z.object({
  id: z.uuid(),
  postId: z.uuid(),
  authorId: z.uuid(),
  body: z.string(),
  createdAt: z.iso.datetime(),
});
export type Comment = z.infer<typeof Comment>;
export const CommentPage = page(Comment);
