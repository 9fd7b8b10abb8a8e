import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProblemException } from './problem.js';
import { validated } from './validation.js';

const Post = z.object({ title: z.string(), tags: z.array(z.string()).default([]) });

function fieldErrors(value: unknown): unknown {
  try {
    validated(Post, value, 'body');
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemException);
    expect((error as ProblemException).status).toBe(400);
    return (error as ProblemException).extra.errors;
  }
  throw new Error('expected a 400');
}

describe('validated', () => {
  it('keeps tabs, line breaks and characters beyond the BMP', () => {
    const title = 'a\tb\r\nc 🎉 é';
    expect(validated(Post, { title }, 'body')).toEqual({ title, tags: [] });
  });

  it.each([
    ['NUL', 'a\u0000b', 'contains a control character (U+0000)'],
    ['an escape', '\u001b[31m', 'contains a control character (U+001B)'],
    ['a vertical tab', 'a\u000bb', 'contains a control character (U+000B)'],
    ['DEL', 'a\u007f', 'contains a control character (U+007F)'],
    ['a lone high surrogate', 'a\ud83d', 'contains a lone surrogate (U+D83D)'],
    ['a lone low surrogate', '\ude00b', 'contains a lone surrogate (U+DE00)'],
  ])('refuses %s in any string, at any depth, naming the field', (_, bad, message) => {
    expect(fieldErrors({ title: bad })).toEqual([{ field: 'body.title', message }]);
    expect(fieldErrors({ title: 'fine', tags: ['ok', bad] })).toEqual([{ field: 'body.tags.1', message }]);
  });

  it('leaves alone what the schema drops: an unknown field cannot fail a request', () => {
    expect(validated(Post, { title: 'fine', extra: { deep: 'x\u0000' } }, 'body')).toEqual({ title: 'fine', tags: [] });
  });
});
