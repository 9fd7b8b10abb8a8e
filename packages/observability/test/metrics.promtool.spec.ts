// Runs promtool from the Prometheus image in a container: an integration test.
// The rest of the metrics tests need nothing and live next to the code.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '@portal/observability';
import { promtoolCheckMetrics } from '@portal/testing';

describe('createMetrics', () => {
  it('passes promtool check metrics', { timeout: 90_000 }, async () => {
    const m = createMetrics('news');
    m.counter('portal_events_consumed_total').inc({ group: 'analytics', event: 'article.published', outcome: 'handled' });
    expect(await promtoolCheckMetrics((await m.exposition()).text)).toEqual([]);
  });
});
