// The README walk-through as a reader runs it, and what the README says it
// prints: shared by the runs against the monolith and against `npm start`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { root } from './paths.js';

/** The bash block after `<!-- walkthrough -->` in the README, exactly as a reader copies it. */
export function readmeWalkthrough(): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /<!-- walkthrough -->\s*```bash\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ```bash block after <!-- walkthrough -->');
  return block;
}

/** Runs the walk-through with `API` set as the README says, and returns the lines it printed. */
export function runWalkthrough(api: string): string[] {
  const run = spawnSync('bash', ['-o', 'pipefail', '-c', readmeWalkthrough()], {
    env: { ...process.env, API: api },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`the walk-through exited with ${run.status}\n${run.stdout}\n${run.stderr}`);
  expect(run.stderr).toBe('');
  return run.stdout.trim().split('\n');
}

const PAID_EPISODE_TITLE = 'The Ledger';
const FREE_EPISODE_TITLE = 'The Keeper';
const DEMO_SERIES = '11111111-1111-4111-8111-111111111111';

const json = (line: string | undefined): Record<string, unknown> => JSON.parse(line ?? 'null') as Record<string, unknown>;

/** One test per step the README describes; `lines` gives what the walk-through printed. */
export function itPrintsWhatTheReadmeSays(lines: () => string[]): void {
  it('prints, step by step, what the README says it prints', () => {
    expect(lines()).toHaveLength(10);
  });

  it('registers the user, with an answer that would be the same for a taken email', () => {
    expect(json(lines()[0])).toEqual({ email: expect.stringMatching(/^reader-\d+@example\.com$/), message: expect.stringContaining('sign in') });
  });

  it('publishes the article, and answers bad input with a problem naming the field', () => {
    expect(json(lines()[1])).toMatchObject({ title: 'Hello, portal', category: 'tech' });
    expect(json(lines()[2])).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'body.title' })] });
  });

  it('reads the free episode and is refused the paid one with 402', () => {
    expect(lines()[3]).toBe(FREE_EPISODE_TITLE);
    expect(lines()[4]).toBe('402');
  });

  it('pays once, and the replay with the same key gives the first answer', () => {
    expect(json(lines()[5])).toMatchObject({ status: 'completed', amountCents: 300, currency: 'USD' });
    expect(lines()[6]).toBe('completed');
  });

  it('reads the paid episode once the payment event has unlocked it', () => {
    expect(lines()[7]).toBe(PAID_EPISODE_TITLE);
  });

  it('shows the registration, the article, the views and the payment in analytics', () => {
    const activity = json(lines()[8]) as { totals: Record<string, number> };
    expect(activity.totals['user.registered']).toBeGreaterThanOrEqual(1);
    expect(activity.totals['article.published']).toBeGreaterThanOrEqual(1);
    expect(activity.totals['episode.viewed']).toBeGreaterThanOrEqual(1);
    expect(activity.totals['payment.completed']).toBe(1);
    const trending = json(lines()[9]) as { items: { seriesId: string; views: number }[] };
    expect(trending.items[0]).toMatchObject({ seriesId: DEMO_SERIES });
    expect(trending.items[0]?.views).toBeGreaterThanOrEqual(2);
  });
}
