import { describe, expect, it } from 'vitest';
import { createLogger, currentLogContext, withLogContext } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the service and fields', () => {
    const out = capture();
    createLogger('news', { write: out.write }).info('article published', { articleId: 'a1' });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 'info', service: 'news', msg: 'article published', articleId: 'a1' });
    expect(Date.parse(String(out.lines[0]?.time))).not.toBeNaN();
  });

  it('adds the request and event ids of the work in progress to every line, across awaits', async () => {
    const out = capture();
    const log = createLogger('webtoon', { write: out.write });
    await withLogContext({ requestId: 'req-7' }, async () => {
      await Promise.resolve();
      await withLogContext({ eventId: 'evt-3' }, async () => {
        log.warn('retrying');
        expect(currentLogContext()).toEqual({ requestId: 'req-7', eventId: 'evt-3' });
      });
      log.info('done');
    });
    log.info('outside');
    expect(out.lines.map((l) => [l.msg, l.requestId, l.eventId])).toEqual([
      ['retrying', 'req-7', 'evt-3'],
      ['done', 'req-7', undefined],
      ['outside', undefined, undefined],
    ]);
  });

  it('drops lines below its level and serialises errors', () => {
    const out = capture();
    const log = createLogger('payment', { write: out.write, level: 'warn' }).child({ component: 'relay' });
    log.info('quiet');
    log.error('publish failed', { error: new Error('broker down') });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ component: 'relay', error: { message: 'broker down', name: 'Error' } });
  });
});
