import { describe, expect, it } from 'vitest';
import { MIXES, OPERATIONS, PORTAL_MIX, WEBTOON_HEAVY_MIX, picker, seededRandom, withoutService } from './mix.js';
import type { Mix } from './mix.js';
import type { Content } from './setup.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CONTENT: Content = {
  users: [{ id: uuid(1), token: 'token-1' }, { id: uuid(2), token: 'token-2' }],
  series: [uuid(10), uuid(11)],
  freeEpisodes: [uuid(20), uuid(21)],
  paidEpisodes: [{ id: uuid(30), priceCents: 300, currency: 'USD' }],
  articles: [uuid(40)],
  categories: ['tech', 'world'],
  posts: [uuid(50)],
};

function proportions(mix: Mix, picks: number, seed: number): Map<string, number> {
  const next = picker(mix, seededRandom(seed));
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const route = next().route;
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return counts;
}

describe('mixes', () => {
  it.each(Object.values(MIXES))('picks $name in its proportions', (mix) => {
    const picks = 200_000;
    const counts = proportions(mix, picks, 5);
    const total = mix.entries.reduce((n, e) => n + e.weight, 0);
    for (const { op, weight } of mix.entries) {
      const expected = weight / total;
      const got = (counts.get(op.route) ?? 0) / picks;
      // 200k picks: a standard error under 0.12 %; 0.5 % is over four of them.
      expect(Math.abs(got - expected), op.route).toBeLessThan(0.005);
    }
    expect([...counts.keys()].sort()).toEqual(mix.entries.map((e) => e.op.route).sort());
  });

  it('is reproducible: the same seed picks the same sequence', () => {
    const a = picker(PORTAL_MIX, seededRandom(9));
    const b = picker(PORTAL_MIX, seededRandom(9));
    const c = picker(PORTAL_MIX, seededRandom(10));
    const seq = (next: () => { route: string }) => Array.from({ length: 200 }, () => next().route);
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
  });

  it('reading webtoon episodes dominates the portal mix; webtoon is 90 % of the webtoon-heavy one', () => {
    const share = (mix: Mix, include: (service: string, route: string) => boolean) =>
      mix.entries.filter((e) => include(e.op.service, e.op.route)).reduce((n, e) => n + e.weight, 0) / mix.entries.reduce((n, e) => n + e.weight, 0);
    const episodes = share(PORTAL_MIX, (_, route) => route === OPERATIONS.readEpisode.route);
    for (const e of PORTAL_MIX.entries) if (e.op !== OPERATIONS.readEpisode) expect(e.weight).toBeLessThan(episodes * 100);
    expect(share(PORTAL_MIX, (_, route) => route.startsWith('POST'))).toBeGreaterThan(0);
    expect(share(PORTAL_MIX, (service) => service === 'payment')).toBeGreaterThan(0);
    expect(share(WEBTOON_HEAVY_MIX, (service) => service === 'webtoon')).toBe(0.9);
  });

  it('builds, for every operation, a request on its route template, signed in where the API needs it', () => {
    const random = seededRandom(1);
    for (const op of Object.values(OPERATIONS)) {
      const [method, template] = op.route.split(' ') as [string, string];
      const pattern = new RegExp(`^${template.replace(/:[a-zA-Z]+/g, '[0-9a-f-]{36}')}(\\?.*)?$`);
      for (let i = 0; i < 50; i++) {
        const req = op.build(CONTENT, random);
        expect(req.method).toBe(method);
        expect(req.path, op.route).toMatch(pattern);
        if (method === 'POST') {
          expect(req.headers?.authorization).toMatch(/^Bearer token-\d$/);
          expect(() => JSON.parse(req.body ?? '')).not.toThrow();
        }
      }
    }
    const pay = OPERATIONS.pay.build(CONTENT, random);
    const again = OPERATIONS.pay.build(CONTENT, random);
    expect(pay.headers?.['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.headers?.['idempotency-key']).not.toBe(pay.headers?.['idempotency-key']);
    expect(JSON.parse(pay.body ?? '')).toMatchObject({ item: { type: 'episode', id: uuid(30) }, amountCents: 300, currency: 'USD' });
  });

  it('drops one service and keeps the others in proportion', () => {
    const mix = withoutService(PORTAL_MIX, 'payment');
    expect(mix.entries.some((e) => e.op.service === 'payment')).toBe(false);
    expect(mix.entries).toHaveLength(PORTAL_MIX.entries.filter((e) => e.op.service !== 'payment').length);
    expect(() => withoutService({ name: 'only', entries: [{ op: OPERATIONS.pay, weight: 1 }] }, 'payment')).toThrow(/nothing but payment/);
  });

  it('rejects a weight that is not positive, naming the route', () => {
    expect(() => picker({ name: 'bad', entries: [{ op: OPERATIONS.me, weight: 0 }] }, Math.random)).toThrow(/weight of GET \/api\/auth\/me must be > 0/);
  });
});
