import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createEvent } from '@portal/contracts';
import type { Page, PageQuery } from '@portal/contracts/api';
import type { Comment, NewComment, NewPost, Post } from '@portal/contracts/api/blog';
import type { Queryable } from '@portal/db';
import { appendToOutbox } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { notFound, pageOf, timeIdCursor } from '@portal/http';
import { BLOG_CONTEXT } from './blog.tokens.js';

interface PostRow {
  id: string;
  title: string;
  body: string;
  author_id: string;
  created_at: Date;
  comment_count: number;
}

interface CommentRow {
  id: string;
  post_id: string;
  author_id: string;
  body: string;
  created_at: Date;
}

const POST_COLUMNS = 'id, title, body, author_id, created_at, comment_count';
const COMMENT_COLUMNS = 'id, post_id, author_id, body, created_at';

const toPost = (r: PostRow): Post => ({
  id: r.id,
  title: r.title,
  body: r.body,
  authorId: r.author_id,
  createdAt: r.created_at.toISOString(),
  commentCount: r.comment_count,
});

const toComment = (r: CommentRow): Comment => ({
  id: r.id,
  postId: r.post_id,
  authorId: r.author_id,
  body: r.body,
  createdAt: r.created_at.toISOString(),
});

/** Who writes, and the request it came from (the trace id of the event). */
export interface Writer {
  readonly authorId: string;
  readonly traceId: string;
}

/** Inserts a post and its post.created event in the caller's transaction. */
export async function insertPost(tx: Queryable, post: NewPost, writer: Writer, fixed: { id?: string; createdAt?: Date } = {}): Promise<Post> {
  const id = fixed.id ?? randomUUID();
  const createdAt = fixed.createdAt ?? new Date();
  const { rows } = await tx.query<PostRow>(
    `INSERT INTO posts (id, title, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${POST_COLUMNS}`,
    [id, post.title, post.body, writer.authorId, createdAt],
  );
  await appendToOutbox(tx, [
    createEvent(
      'post.created',
      { postId: id, authorId: writer.authorId, title: post.title },
      { aggregateId: id, traceId: writer.traceId, occurredAt: createdAt },
    ),
  ]);
  return toPost(rows[0] as PostRow);
}

/**
 * Adds a comment and its comment.added event in the caller's transaction, or
 * returns undefined when there is no such post. Updating the post first locks
 * it, so a post's comments are written one at a time, each later than the last.
 */
export async function insertComment(tx: Queryable, postId: string, comment: NewComment, writer: Writer, id: string = randomUUID()): Promise<Comment | undefined> {
  const { rows: posts } = await tx.query<{ at: Date }>(
    `UPDATE posts
     SET comment_count = comment_count + 1,
         last_comment_at = GREATEST(date_trunc('milliseconds', clock_timestamp()), last_comment_at + interval '1 millisecond')
     WHERE id = $1
     RETURNING last_comment_at AS at`,
    [postId],
  );
  const at = posts[0]?.at;
  if (at === undefined) return undefined;
  const { rows } = await tx.query<CommentRow>(
    `INSERT INTO comments (id, post_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COMMENT_COLUMNS}`,
    [id, postId, writer.authorId, comment.body, at],
  );
  // Keyed by the post, so every consumer sees a post's comments in order.
  await appendToOutbox(tx, [
    createEvent('comment.added', { commentId: id, postId, authorId: writer.authorId }, { aggregateId: postId, traceId: writer.traceId, occurredAt: at }),
  ]);
  return toComment(rows[0] as CommentRow);
}

@Injectable()
export class BlogService {
  constructor(@Inject(BLOG_CONTEXT) private readonly context: DomainContext) {}

  async createPost(post: NewPost, writer: Writer): Promise<Post> {
    const created = await this.context.database.transaction((tx) => insertPost(tx, post, writer));
    this.context.outbox.nudge();
    return created;
  }

  async listPosts(query: PageQuery): Promise<Page<Post>> {
    const [time, id] = query.cursor === undefined ? [null, null] : timeIdCursor(query.cursor);
    const { rows } = await this.context.database.query<PostRow>(
      `SELECT ${POST_COLUMNS} FROM posts
       WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid)
       ORDER BY created_at DESC, id DESC
       LIMIT $3`,
      [time, id, query.limit + 1],
    );
    return pageOf(rows, query.limit, toPost, (r) => [r.created_at, r.id]);
  }

  async getPost(id: string): Promise<Post> {
    const { rows } = await this.context.database.query<PostRow>(`SELECT ${POST_COLUMNS} FROM posts WHERE id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw notFound('post', id);
    return toPost(row);
  }

  async addComment(postId: string, comment: NewComment, writer: Writer): Promise<Comment> {
    const created = await this.context.database.transaction((tx) => insertComment(tx, postId, comment, writer));
    if (created === undefined) throw notFound('post', postId);
    this.context.outbox.nudge();
    return created;
  }

  async listComments(postId: string, query: PageQuery): Promise<Page<Comment>> {
    const [time, id] = query.cursor === undefined ? [null, null] : timeIdCursor(query.cursor);
    const { rows } = await this.context.database.query<CommentRow>(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE post_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
       ORDER BY created_at, id
       LIMIT $4`,
      [postId, time, id, query.limit + 1],
    );
    // An empty page may mean no such post: only then is it worth asking.
    if (rows.length === 0) {
      const { rowCount } = await this.context.database.query('SELECT 1 FROM posts WHERE id = $1', [postId]);
      if (rowCount === 0) throw notFound('post', postId);
    }
    return pageOf(rows, query.limit, toComment, (r) => [r.created_at, r.id]);
  }
}
