import { randomUUID } from 'node:crypto';

export interface SmokeOptions {
  /** The gateway's base URL, e.g. http://localhost:8080 (anything serving the portal's /api routes). */
  url: string;
  /** How long the stack may take to become ready: the first two steps retry until then. Default 60. */
  waitSeconds?: number | undefined;
  /** How long the payment-completed event may take to unlock the paid episode. Default 30. */
  unlockSeconds?: number | undefined;
  /** The bound on each single request. Default 10 000. */
  requestTimeoutMs?: number | undefined;
  /** Where progress goes, a line at a time. */
  log?: ((line: string) => void) | undefined;
}

export interface SmokeStepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  /** What went wrong, on the failed step. */
  readonly error?: string;
}

export interface SmokeResult {
  readonly ok: boolean;
  /** The steps that ran, in order; when `ok` is false the last one failed. */
  readonly steps: readonly SmokeStepResult[];
  /** The failed step's name. */
  readonly failedStep?: string;
}

/** The steps, in the order they run: the CLI's help and the tests read them from here. */
export const SMOKE_STEPS = [
  'the gateway is ready',
  'every open service answers through the gateway',
  'register a reader',
  'log in',
  'a payment without a token answers 401',
  'list news and read an article',
  'read a free episode',
  'a locked episode answers 402',
  'pay for it with an Idempotency-Key, twice',
  'read the paid episode',
] as const;
export type SmokeStep = (typeof SMOKE_STEPS)[number];

/** Payment answers only with a token, so the payment steps are what reach it. */
const OPEN_SERVICES = ['auth', 'news', 'blog', 'webtoon', 'analytics'] as const;

/** A step's failure: the message says what was asked, what came back and what was expected. */
class StepFailure extends Error {}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** `METHOD /path`, for messages. */
  readonly request: string;
}

type Json = Record<string, unknown>;

interface EpisodeRef {
  readonly id: string;
  readonly priceCents: number;
  readonly currency: string;
}

/**
 * The smoke test of a deployed portal, through the gateway only: each step is
 * what a user's client does, checked on its status and the fields that matter.
 * It stops at the first failed step. Only the two readiness steps retry (until
 * `waitSeconds` from the start), and the paid read waits for the entitlement
 * event (until `unlockSeconds`); nothing else is retried, so a flaky answer
 * fails the run.
 *
 * It writes one new account and one payment (with the provider's test token
 * `tok_ok`) per run. It reads the demo data (`SEED_DEMO_DATA`, on by default):
 * an article, and a series with a free and a paid episode; where there is none
 * (production runs without demo data) it makes them once, as the reader, and
 * later runs find them.
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const base = new URL(options.url);
  const log = options.log ?? ((line: string) => console.log(line));
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const readyBy = Date.now() + (options.waitSeconds ?? 60) * 1000;
  const unlockMs = (options.unlockSeconds ?? 30) * 1000;

  const call = async (
    method: string,
    path: string,
    init: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    // Under the base URL's path too: a gateway may sit behind a prefix.
    const target = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base.origin);
    const request = `${method} ${target.pathname}${target.search}`;
    try {
      const response = await fetch(target, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      return { status: response.status, headers: response.headers, text: await response.text(), request };
    } catch (error) {
      throw new StepFailure(`${request}: ${describeNetworkError(error)}`);
    }
  };

  /**
   * Repeats `attempt` until it passes or `deadline` passes, printing every few
   * seconds what it still waits for. `retryable` says which failures are worth
   * another try; the others fail at once.
   */
  const until = async (deadline: number, attempt: () => Promise<void>, retryable: (e: StepFailure) => boolean = () => true) => {
    const started = Date.now();
    let reported = started;
    for (;;) {
      try {
        await attempt();
        return;
      } catch (error) {
        if (!(error instanceof StepFailure) || !retryable(error)) throw error;
        if (Date.now() >= deadline) throw new StepFailure(`${error.message} (still so after ${seconds(Date.now() - started)})`);
        if (Date.now() - reported >= 5000) {
          log(`      still waiting (${seconds(Date.now() - started)}): ${error.message}`);
          reported = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(0, deadline - Date.now()))));
      }
    }
  };

  let email = '';
  let password = '';
  let token = '';
  let freeEpisode = '';
  let paidEpisode: EpisodeRef | undefined;

  const run: Record<SmokeStep, () => Promise<void>> = {
    'the gateway is ready': () =>
      until(readyBy, async () => {
        expectStatus(await call('GET', '/health/ready'), 200);
      }),

    'every open service answers through the gateway': () =>
      until(readyBy, async () => {
        for (const service of OPEN_SERVICES) {
          const answer = await call('GET', `/api/${service}/openapi.json`);
          expectStatus(answer, 200);
          field(answer, parse(answer), 'openapi', 'string');
        }
      }),

    'register a reader': async () => {
      email = `smoke-${randomUUID()}@example.com`;
      password = `smoke-${randomUUID()}`;
      const answer = await call('POST', '/api/auth/register', { body: { email, password, displayName: 'Smoke test' } });
      // 202 whether or not the email was taken, so registering does not tell which accounts exist.
      expectStatus(answer, 202);
      const registration = parse(answer);
      field(answer, registration, 'message', 'string');
      if (registration.email !== email) throw failure(answer, `email is ${JSON.stringify(registration.email)}, expected ${email}`);
    },

    'log in': async () => {
      const answer = await call('POST', '/api/auth/login', { body: { email, password } });
      expectStatus(answer, 200);
      const body = parse(answer);
      token = field(answer, body, 'accessToken', 'string') as string;
      if (body.tokenType !== 'Bearer') throw failure(answer, `tokenType is ${JSON.stringify(body.tokenType)}, expected "Bearer"`);
    },

    'a payment without a token answers 401': async () => {
      expectStatus(await call('GET', '/api/payment/payments'), 401);
    },

    'list news and read an article': async () => {
      let list = await call('GET', '/api/news/articles?limit=5');
      expectStatus(list, 200);
      if (items(list).length === 0) {
        // No demo data (production runs without it): one article, once; later runs find it.
        log('      no articles yet: publishing one');
        const created = await call('POST', '/api/news/articles', { token, body: SMOKE_ARTICLE });
        expectStatus(created, 201);
        list = await call('GET', '/api/news/articles?limit=5');
        expectStatus(list, 200);
      }
      const [first] = items(list);
      if (first === undefined) throw failure(list, 'lists no articles, even after one was published');
      const id = field(list, first, 'id', 'string') as string;
      const article = await call('GET', `/api/news/articles/${id}`);
      expectStatus(article, 200);
      const body = parse(article);
      if (body.id !== id || body.title !== first.title) throw failure(article, `is not the article the list named (${id})`);
    },

    'read a free episode': async () => {
      let found = await findEpisodes(call);
      if (found === undefined) {
        // No demo data: a series of the smoke test's own, once; later runs find it.
        log('      no series with a free and a paid episode yet: creating one');
        found = await createSeries(call, token);
      }
      freeEpisode = found.free;
      paidEpisode = found.paid;
      const answer = await call('GET', `/api/webtoon/episodes/${freeEpisode}`);
      expectStatus(answer, 200);
      if (field(answer, parse(answer), 'content', 'string') === '') throw failure(answer, 'content is empty');
    },

    'a locked episode answers 402': async () => {
      expectStatus(await call('GET', `/api/webtoon/episodes/${paid().id}`, { token }), 402);
    },

    'pay for it with an Idempotency-Key, twice': async () => {
      const key = randomUUID();
      const { id, priceCents, currency } = paid();
      const body = { item: { type: 'episode', id }, amountCents: priceCents, currency, paymentMethod: { token: 'tok_ok' } };
      const first = await call('POST', '/api/payment/payments', { token, body, headers: { 'idempotency-key': key } });
      expectStatus(first, 201);
      const payment = parse(first);
      if (payment.status !== 'completed') throw failure(first, `status is ${JSON.stringify(payment.status)}, expected "completed"`);
      const again = await call('POST', '/api/payment/payments', { token, body, headers: { 'idempotency-key': key } });
      expectStatus(again, 201);
      if (parse(again).id !== payment.id) throw failure(again, `the same key made a second payment (first was ${String(payment.id)})`);
      if (again.headers.get('idempotent-replayed') !== 'true') throw failure(again, 'the replayed answer lacks idempotent-replayed: true');
    },

    'read the paid episode': () =>
      // The entitlement arrives with the payment-completed event, a moment after the payment.
      until(
        Date.now() + unlockMs,
        async () => {
          const answer = await call('GET', `/api/webtoon/episodes/${paid().id}`, { token });
          expectStatus(answer, 200);
          field(answer, parse(answer), 'content', 'string');
        },
        (error) => error.message.includes(' answered 402'),
      ),
  };

  const paid = (): EpisodeRef => {
    if (paidEpisode === undefined) throw new StepFailure('no paid episode was found in an earlier step');
    return paidEpisode;
  };

  const steps: SmokeStepResult[] = [];
  log(`smoke test of ${base.origin}${base.pathname === '/' ? '' : base.pathname}: ${SMOKE_STEPS.length} steps`);
  for (const [index, name] of SMOKE_STEPS.entries()) {
    const label = `[${index + 1}/${SMOKE_STEPS.length}] ${name}`;
    const started = Date.now();
    try {
      await run[name]();
      steps.push({ name, ok: true, ms: Date.now() - started });
      log(`  ok   ${label} (${seconds(Date.now() - started)})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      steps.push({ name, ok: false, ms: Date.now() - started, error: message });
      log(`  FAIL ${label} (${seconds(Date.now() - started)})\n       ${message}`);
      log(`smoke test failed at step '${name}'`);
      return { ok: false, steps, failedStep: name };
    }
  }
  log(`smoke test passed: ${steps.length} steps`);
  return { ok: true, steps };
}

type Call = (method: string, path: string, init?: { token?: string; body?: unknown }) => Promise<Answer>;

interface Episodes {
  readonly free: string;
  readonly paid: EpisodeRef;
}

const SMOKE_ARTICLE = {
  title: 'Smoke test',
  body: 'Published by the deployment smoke test (npm run smoke) because the portal had no articles.',
  category: 'tech',
};

/** The first series with a free and a paid episode, as the demo data has; undefined when none has. */
async function findEpisodes(call: Call): Promise<Episodes | undefined> {
  const series = await call('GET', '/api/webtoon/series?limit=50');
  expectStatus(series, 200);
  for (const one of items(series)) {
    const episodes = await call('GET', `/api/webtoon/series/${String(one.id)}/episodes?limit=100`);
    expectStatus(episodes, 200);
    const list = items(episodes);
    const free = list.find((e) => e.free === true);
    const paid = list.find((e) => e.free === false && typeof e.priceCents === 'number' && e.priceCents > 0);
    if (free !== undefined && paid !== undefined) {
      return {
        free: String(free.id),
        paid: { id: String(paid.id), priceCents: paid.priceCents as number, currency: String(paid.currency) },
      };
    }
  }
  return undefined;
}

/** A series with a free and a paid episode, made by the smoke test's reader (paying for one's own episode is still paying). */
async function createSeries(call: Call, token: string): Promise<Episodes> {
  const series = await call('POST', '/api/webtoon/series', {
    token,
    body: { title: 'Smoke test', synopsis: 'Made by the deployment smoke test (npm run smoke) because no series had a free and a paid episode.' },
  });
  expectStatus(series, 201);
  const seriesId = String(parse(series).id);
  const episode = async (number: number, priceCents: number) => {
    const answer = await call('POST', `/api/webtoon/series/${seriesId}/episodes`, {
      token,
      body: { number, title: `Smoke test ${number}`, content: `Episode ${number} of the smoke test.`, priceCents, currency: 'USD' },
    });
    expectStatus(answer, 201);
    return String(parse(answer).id);
  };
  const free = await episode(1, 0);
  return { free, paid: { id: await episode(2, 100), priceCents: 100, currency: 'USD' } };
}

function expectStatus(answer: Answer, expected: number): void {
  if (answer.status !== expected) throw failure(answer, `answered ${answer.status}, expected ${expected}`, true);
}

function failure(answer: Answer, what: string, withBody = false): StepFailure {
  const body = answer.text.length > 300 ? `${answer.text.slice(0, 300)}...` : answer.text;
  return new StepFailure(`${answer.request} ${what}${withBody && body !== '' ? `: ${body}` : ''}`);
}

function parse(answer: Answer): Json {
  try {
    const value: unknown = JSON.parse(answer.text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  } catch {
    // Reported below, with what came instead.
  }
  throw failure(answer, `is not a JSON object: ${answer.text.slice(0, 200)}`);
}

function items(answer: Answer): Json[] {
  const list = parse(answer).items;
  if (!Array.isArray(list)) throw failure(answer, 'has no items list');
  return list as Json[];
}

function field(answer: Answer, body: Json, name: string, type: 'string' | 'number'): unknown {
  const value = body[name];
  if (typeof value !== type) throw failure(answer, `has no ${type} ${name}`);
  return value;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
