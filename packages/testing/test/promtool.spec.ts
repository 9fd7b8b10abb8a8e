// Runs promtool from the Prometheus image in a container: an integration test.
import { describe, expect, it } from 'vitest';
import { promtoolCheckMetrics } from '@portal/testing';

describe('promtoolCheckMetrics', { timeout: 90_000 }, () => {
  it('passes a clean exposition and names the problems of a bad one', async () => {
    expect(await promtoolCheckMetrics('# HELP a_total Things.\n# TYPE a_total counter\na_total 1\n')).toEqual([]);
    const problems = await promtoolCheckMetrics('# HELP b_total Things.\n# TYPE b_total gauge\nb_total 1\n');
    expect(problems.join('\n')).toMatch(/b_total non-counter metrics should not have "_total" suffix/);
  });

  it('fails, rather than passing, when the image cannot run', async () => {
    await expect(promtoolCheckMetrics('a 1\n', { PROMETHEUS_IMAGE: 'portal-no-such/image:0' })).rejects.toThrow(/could not run/);
  });
});
