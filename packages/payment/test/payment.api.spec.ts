import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@portal/contracts/api';
import { Payment, PaymentPage } from '@portal/contracts/api/payment';
import type { Database } from '@portal/db';
import type { Host } from '@portal/host';
import { fakeAuth, fieldsOf, openApiDrift, overLimit, startTestHost } from '@portal/host/testing';
import type { FakeAuth } from '@portal/host/testing';
import { parseExposition, sampleSum } from '@portal/observability';
import { createDatabase, startPostgres, waitUntil } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { paymentDomain } from '../src/index.js';
import { client, paymentRequest } from './support.js';

type PaymentBody = ReturnType<typeof Payment.parse>;

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT (${sql})::bigint AS n`, params);
  return rows[0]?.n ?? NaN;
}

const outboxOfUser = async (db: Database, userId: string) =>
  (
    await db.query<{ name: string; aggregate_id: string; event: { traceId: string; payload: Record<string, unknown> } }>(
      "SELECT name, aggregate_id, event FROM outbox WHERE event->'payload'->>'userId' = $1 ORDER BY seq",
      [userId],
    )
  ).rows;

describe('the payment API on a real PostgreSQL', () => {
  let server: PostgresServer;
  let host: Host;
  let db: Database;
  let auth: FakeAuth;

  /** A client for a new payer, so each test sees only its own payments. */
  const newPayer = async () => {
    const userId = randomUUID();
    return { userId, api: client(host.url, await auth.token(userId)) };
  };

  beforeAll(async () => {
    server = await startPostgres();
    auth = await fakeAuth();
    host = await startTestHost([auth.domain, paymentDomain], { PAYMENT_DATABASE_URL: await createDatabase(server, 'payment') });
    db = host.databases.get('payment') as Database;
  });
  afterAll(async () => {
    await host?.close();
    await server?.close();
  });

  it('runs on PostgreSQL, not embedded', () => {
    expect(db.kind).toBe('postgres');
  });

  it('charges an approved card once: 201, a completed payment, a provider charge, a ledger entry and an event', async () => {
    const { userId, api } = await newPayer();
    const request = paymentRequest({ amountCents: 1234, currency: 'USD' });
    const res = await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: request });

    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    const payment = Payment.parse(res.body);
    expect(payment).toEqual({
      id: expect.any(String),
      userId,
      item: request.item,
      amountCents: 1234,
      currency: 'USD',
      status: 'completed',
      createdAt: expect.any(String),
    });
    expect(res.body).not.toHaveProperty('failureReason');
    expect(res.body).not.toHaveProperty('refundedAt');

    const charges = await db.query('SELECT amount_cents, currency FROM provider_charges WHERE payment_id = $1', [payment.id]);
    expect(charges.rows).toEqual([{ amount_cents: 1234, currency: 'USD' }]);
    const ledger = await db.query('SELECT kind, amount_cents, currency FROM ledger_entries WHERE payment_id = $1', [payment.id]);
    expect(ledger.rows).toEqual([{ kind: 'charge', amount_cents: 1234, currency: 'USD' }]);
    const events = await outboxOfUser(db, userId);
    expect(events.map((e) => [e.name, e.aggregate_id])).toEqual([['payment.completed', payment.id]]);
    expect(events[0]?.event.payload).toEqual({ paymentId: payment.id, userId, item: request.item, amountCents: 1234, currency: 'USD' });
    expect(events[0]?.event.traceId).toBe(res.headers.get('x-request-id'));

    const read = await api.get<PaymentBody>(`/api/payment/payments/${payment.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(payment);
  });

  it('records a declined card as a failed payment: 201, failureReason, no charge, no ledger entry, payment.failed', async () => {
    const { userId, api } = await newPayer();
    const res = await api.post<PaymentBody>('/api/payment/payments', {
      key: randomUUID(),
      body: paymentRequest({ paymentMethod: { token: 'tok_decline' } }),
    });

    expect(res.status).toBe(201);
    const payment = Payment.parse(res.body);
    expect(payment).toMatchObject({ status: 'failed', failureReason: 'card_declined', userId });
    expect(await count(db, 'SELECT count(*) FROM provider_charges WHERE payment_id = $1', [payment.id])).toBe(0);
    expect(await count(db, 'SELECT count(*) FROM ledger_entries WHERE payment_id = $1', [payment.id])).toBe(0);
    const events = await outboxOfUser(db, userId);
    expect(events.map((e) => [e.name, e.aggregate_id])).toEqual([['payment.failed', payment.id]]);
    expect(events[0]?.event.payload).toMatchObject({ paymentId: payment.id, reason: 'card_declined' });
  });

  it('answers a repeat of the same key and request with the first answer, marked as replayed, without charging again', async () => {
    const { api } = await newPayer();
    const key = randomUUID();
    const request = paymentRequest();
    const first = await api.post('/api/payment/payments', { key, body: request });
    // The same request with its keys in another order is the same request.
    const reordered = { paymentMethod: request.paymentMethod, currency: request.currency, amountCents: request.amountCents, item: request.item };
    const again = await api.post('/api/payment/payments', { key, body: reordered });

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await count(db, 'SELECT count(*) FROM provider_charges WHERE payment_id = $1', [first.body.id])).toBe(1);
  });

  it('charges exactly once for 20 concurrent identical requests, and answers all 20 the same', async () => {
    const { userId, api } = await newPayer();
    const key = randomUUID();
    const request = paymentRequest({ amountCents: 777 });
    const chargesBefore = await count(db, 'SELECT count(*) FROM provider_charges');
    const paymentsBefore = await count(db, 'SELECT count(*) FROM payments');

    const replies = await Promise.all(Array.from({ length: 20 }, () => api.post('/api/payment/payments', { key, body: request })));

    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    const replayed = replies.map((r) => r.headers.get('idempotent-replayed'));
    expect(replayed.filter((h) => h === null)).toHaveLength(1);
    expect(replayed.filter((h) => h === 'true')).toHaveLength(19);

    expect(await count(db, 'SELECT count(*) FROM provider_charges')).toBe(chargesBefore + 1);
    expect(await count(db, 'SELECT count(*) FROM payments')).toBe(paymentsBefore + 1);
    const id = replies[0]?.body.id;
    expect(await count(db, 'SELECT count(*) FROM provider_charges WHERE payment_id = $1', [id])).toBe(1);
    expect(await count(db, 'SELECT count(*) FROM payments WHERE user_id = $1', [userId])).toBe(1);
    expect(await count(db, 'SELECT count(*) FROM ledger_entries WHERE payment_id = $1', [id])).toBe(1);
    expect((await outboxOfUser(db, userId)).map((e) => e.name)).toEqual(['payment.completed']);
  });

  it('refuses a key reused for a different request with 422, and charges nothing for it', async () => {
    const { userId, api } = await newPayer();
    const key = randomUUID();
    const request = paymentRequest();
    expect((await api.post('/api/payment/payments', { key, body: request })).status).toBe(201);

    const other = await api.post<Problem>('/api/payment/payments', { key, body: { ...request, amountCents: 301 } });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body.detail).toMatch(/already used for a different request/);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(db, 'SELECT count(*) FROM payments WHERE user_id = $1', [userId])).toBe(1);
  });

  it('scopes keys to the payer: two payers with the same key are two payments', async () => {
    const key = `shared-${randomUUID()}`;
    const [a, b] = [await newPayer(), await newPayer()];
    const [ra, rb] = [await a.api.post('/api/payment/payments', { key, body: paymentRequest() }), await b.api.post('/api/payment/payments', { key, body: paymentRequest() })];
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect(ra.body.id).not.toBe(rb.body.id);
  });

  it('requires a well-formed Idempotency-Key, naming the header', async () => {
    const { userId, api } = await newPayer();
    for (const key of [undefined, '', 'has space', 'x'.repeat(201), 'naïve']) {
      const res = await api.post<Problem>('/api/payment/payments', { ...(key === undefined ? {} : { key }), body: paymentRequest() });
      expect(res.status, `key ${JSON.stringify(key)}`).toBe(400);
      expect(fieldsOf(res)).toEqual(['header.idempotency-key']);
    }
    expect((await api.post('/api/payment/payments', { key: 'x'.repeat(200), body: paymentRequest() })).status).toBe(201);
    expect((await api.post('/api/payment/payments', { key: '!~', body: paymentRequest() })).status).toBe(201);
    expect(await count(db, 'SELECT count(*) FROM payments WHERE user_id = $1', [userId])).toBe(2);
  });

  it('answers 400 naming each invalid field, and charges nothing', async () => {
    const { userId, api } = await newPayer();
    const cases: [unknown, string[]][] = [
      [{}, ['body.item', 'body.amountCents', 'body.currency', 'body.paymentMethod']],
      [paymentRequest({ amountCents: '300' }), ['body.amountCents']],
      [paymentRequest({ amountCents: -300 }), ['body.amountCents']],
      [paymentRequest({ amountCents: 0 }), ['body.amountCents']],
      [paymentRequest({ amountCents: 2.5 }), ['body.amountCents']],
      [paymentRequest({ amountCents: 1_000_001 }), ['body.amountCents']],
      [paymentRequest({ currency: 'eur' }), ['body.currency']],
      [paymentRequest({ currency: 978 }), ['body.currency']],
      [paymentRequest({ item: { type: 'series', id: 'nope' } }), ['body.item.type', 'body.item.id']],
      [paymentRequest({ paymentMethod: {} }), ['body.paymentMethod.token']],
      [paymentRequest({ paymentMethod: { token: 42 } }), ['body.paymentMethod.token']],
      [paymentRequest({ paymentMethod: { token: 'tok_unknown' } }), ['body.paymentMethod.token']],
      [paymentRequest({ paymentMethod: { token: 'tok_ok\u0000' } }), ['body.paymentMethod.token']],
      [[paymentRequest()], ['body']],
    ];
    for (const [body, fields] of cases) {
      const res = await api.post<Problem>('/api/payment/payments', { key: randomUUID(), body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(res).sort(), JSON.stringify(body)).toEqual([...fields].sort());
    }
    const notJson = await api.post<Problem>('/api/payment/payments', { key: randomUUID(), raw: '{"item":' });
    expect(notJson.status).toBe(400);
    expect(await count(db, 'SELECT count(*) FROM payments WHERE user_id = $1', [userId])).toBe(0);
  });

  it('does not burn a key on a rejected request: the corrected request with the same key goes through', async () => {
    const { api } = await newPayer();
    const key = randomUUID();
    const unknownToken = await api.post('/api/payment/payments', { key, body: paymentRequest({ paymentMethod: { token: 'tok_typo' } }) });
    expect(unknownToken.status).toBe(400);
    const fixed = await api.post('/api/payment/payments', { key, body: paymentRequest() });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers 413 to a body over the limit', async () => {
    const { api } = await newPayer();
    const res = await api.post<Problem>('/api/payment/payments', {
      key: randomUUID(),
      body: paymentRequest({ paymentMethod: { token: overLimit() } }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers 401 to every route without a valid bearer token', async () => {
    const anonymous = client(host.url);
    const forged = client(host.url, 'aaa.bbb.ccc');
    const id = randomUUID();
    for (const api of [anonymous, forged]) {
      expect((await api.post('/api/payment/payments', { key: randomUUID(), body: paymentRequest() })).status).toBe(401);
      expect((await api.get('/api/payment/payments')).status).toBe(401);
      expect((await api.get(`/api/payment/payments/${id}`)).status).toBe(401);
      expect((await api.post(`/api/payment/payments/${id}/refund`, { key: randomUUID() })).status).toBe(401);
    }
  });

  it('refunds once: 200 refunded, a replay gets the same answer, a new key gets 409, and the ledger nets to zero', async () => {
    const { userId, api } = await newPayer();
    const paid = await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ amountCents: 500 }) });
    const id = paid.body.id;
    const key = randomUUID();

    const refund = await api.post<PaymentBody>(`/api/payment/payments/${id}/refund`, { key });
    expect(refund.status).toBe(200);
    expect(refund.headers.get('idempotent-replayed')).toBeNull();
    const refunded = Payment.parse(refund.body);
    expect(refunded).toEqual({ ...paid.body, status: 'refunded', refundedAt: expect.any(String) });

    const replay = await api.post(`/api/payment/payments/${id}/refund`, { key });
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(refund.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const twice = await api.post<Problem>(`/api/payment/payments/${id}/refund`, { key: randomUUID() });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toMatch(/refunded/);

    // A key of a payment cannot be spent on a refund.
    const paymentKey = randomUUID();
    await api.post('/api/payment/payments', { key: paymentKey, body: paymentRequest() });
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: paymentKey })).status).toBe(422);

    expect((await api.get<PaymentBody>(`/api/payment/payments/${id}`)).body).toEqual(refunded);
    expect(await count(db, 'SELECT count(*) FROM provider_refunds WHERE payment_id = $1', [id])).toBe(1);
    const ledger = await db.query('SELECT kind, amount_cents FROM ledger_entries WHERE payment_id = $1 ORDER BY kind', [id]);
    expect(ledger.rows).toEqual([
      { kind: 'charge', amount_cents: 500 },
      { kind: 'refund', amount_cents: -500 },
    ]);
    expect(await count(db, 'SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries WHERE payment_id = $1', [id])).toBe(0);
    const events = (await outboxOfUser(db, userId)).filter((e) => e.aggregate_id === id);
    expect(events.map((e) => e.name)).toEqual(['payment.completed', 'payment.refunded']);
  });

  it('refunds exactly once under 10 concurrent refunds with different keys', async () => {
    const { api } = await newPayer();
    const { body } = await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest() });
    const replies = await Promise.all(Array.from({ length: 10 }, () => api.post(`/api/payment/payments/${body.id}/refund`, { key: randomUUID() })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect(await count(db, 'SELECT count(*) FROM provider_refunds WHERE payment_id = $1', [body.id])).toBe(1);
    expect(await count(db, "SELECT count(*) FROM ledger_entries WHERE payment_id = $1 AND kind = 'refund'", [body.id])).toBe(1);
  });

  it('answers 409 to a refund of a failed payment', async () => {
    const { api } = await newPayer();
    const { body } = await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ paymentMethod: { token: 'tok_decline' } }) });
    const res = await api.post<Problem>(`/api/payment/payments/${body.id}/refund`, { key: randomUUID() });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/failed/);
  });

  it("hides other payers' payments: 404 to read or refund them, and they are not listed", async () => {
    const owner = await newPayer();
    const stranger = await newPayer();
    const { body } = await owner.api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest() });

    const read = await stranger.api.get<Problem>(`/api/payment/payments/${body.id}`);
    expect(read.status).toBe(404);
    const refund = await stranger.api.post<Problem>(`/api/payment/payments/${body.id}/refund`, { key: randomUUID() });
    expect(refund.status).toBe(404);
    // The same answer as for a payment that does not exist at all.
    const missing = await stranger.api.get<Problem>(`/api/payment/payments/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(read.body.title).toBe(missing.body.title);
    expect((await stranger.api.get<PaymentPage>('/api/payment/payments')).body).toEqual({ items: [] });

    expect((await owner.api.get<PaymentBody>(`/api/payment/payments/${body.id}`)).body.status).toBe('completed');
    expect(fieldsOf(await owner.api.get('/api/payment/payments/not-a-uuid'))).toEqual(['param.id']);
    expect(fieldsOf(await owner.api.post('/api/payment/payments/not-a-uuid/refund', { key: randomUUID() }))).toEqual(['param.id']);
    expect(fieldsOf(await owner.api.post(`/api/payment/payments/${body.id}/refund`))).toEqual(['header.idempotency-key']);
  });

  it("lists the payer's payments newest first, a page at a time", async () => {
    const { api } = await newPayer();
    const made: PaymentBody[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ amountCents: 100 + i }) })).body);
    }
    const newestFirst = [...made].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).map((p) => p.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await api.get<PaymentPage>(`/api/payment/payments?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      PaymentPage.parse(res.body);
      seen.push(...res.body.items.map((p) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst);

    const all = await api.get<PaymentPage>('/api/payment/payments');
    expect(all.body.items.map((p) => p.id)).toEqual(newestFirst);
    expect(all.body.nextCursor).toBeUndefined();

    expect(fieldsOf(await api.get('/api/payment/payments?cursor=garbage'))).toEqual(['query.cursor']);
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expect(fieldsOf(await api.get(`/api/payment/payments?cursor=${forged}`))).toEqual(['query.cursor']);
    expect(fieldsOf(await api.get('/api/payment/payments?limit=0'))).toEqual(['query.limit']);
  });

  it('leaves exactly the expected events in the outbox, and publishes them', async () => {
    const { userId, api } = await newPayer();
    const okKey = randomUUID();
    const ok = await api.post<PaymentBody>('/api/payment/payments', { key: okKey, body: paymentRequest() });
    await api.post('/api/payment/payments', { key: okKey, body: paymentRequest() }); // 422: a different item
    await api.post('/api/payment/payments', { key: okKey, body: { ...paymentRequest(), item: ok.body.item } }); // replay
    const declined = await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ paymentMethod: { token: 'tok_decline' } }) });
    await api.post('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ paymentMethod: { token: 'tok_bad' } }) }); // 400
    const refundKey = randomUUID();
    await api.post(`/api/payment/payments/${ok.body.id}/refund`, { key: refundKey });
    await api.post(`/api/payment/payments/${ok.body.id}/refund`, { key: refundKey }); // replay
    await api.post(`/api/payment/payments/${ok.body.id}/refund`, { key: randomUUID() }); // 409
    await api.post(`/api/payment/payments/${declined.body.id}/refund`, { key: randomUUID() }); // 409

    const events = await outboxOfUser(db, userId);
    expect(events.map((e) => [e.name, e.aggregate_id])).toEqual([
      ['payment.completed', ok.body.id],
      ['payment.failed', declined.body.id],
      ['payment.refunded', ok.body.id],
    ]);
    expect(events[2]?.event.payload).toEqual({
      paymentId: ok.body.id,
      userId,
      item: ok.body.item,
      amountCents: ok.body.amountCents,
      currency: ok.body.currency,
    });
    await waitUntil('the events published', 5_000, async () => {
      const pending = await count(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL AND event->'payload'->>'userId' = $1", [userId]);
      if (pending !== 0) throw new Error(`${pending} not yet published`);
    });
  });

  it('keeps the ledger equal to what was charged less what was refunded', async () => {
    const { userId, api } = await newPayer();
    const amounts = [100, 250, 400];
    const paid = [];
    for (const amountCents of amounts) {
      paid.push((await api.post<PaymentBody>('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ amountCents }) })).body);
    }
    await api.post('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ amountCents: 999, paymentMethod: { token: 'tok_decline' } }) });
    await api.post(`/api/payment/payments/${paid[1]?.id}/refund`, { key: randomUUID() });

    const ledger = await count(
      db,
      'SELECT coalesce(sum(l.amount_cents), 0) FROM ledger_entries l JOIN payments p ON p.id = l.payment_id WHERE p.user_id = $1',
      [userId],
    );
    expect(ledger).toBe(100 + 400);
    const provider = await count(
      db,
      `SELECT (SELECT coalesce(sum(amount_cents), 0) FROM provider_charges WHERE payment_id = ANY($1::uuid[]))
            - (SELECT coalesce(sum(amount_cents), 0) FROM provider_refunds WHERE payment_id = ANY($1::uuid[]))`,
      [paid.map((p) => p.id)],
    );
    expect(provider).toBe(ledger);
  });

  it('counts each committed payment once by outcome in /metrics: replays, concurrent repeats and refused refunds add nothing', async () => {
    const payments = async () => {
      const samples = parseExposition(await (await fetch(`${host.url}/metrics`)).text());
      const of = (outcome: string) => sampleSum(samples, 'portal_payments_total', { outcome });
      return { completed: of('completed'), failed: of('failed'), refunded: of('refunded') };
    };
    const before = await payments();
    const { api } = await newPayer();
    const key = randomUUID();
    const request = paymentRequest();
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.post<PaymentBody>('/api/payment/payments', { key, body: request })));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    await api.post('/api/payment/payments', { key: randomUUID(), body: paymentRequest({ paymentMethod: { token: 'tok_decline' } }) });
    const id = answers[0]?.body.id as string;
    const refundKey = randomUUID();
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: refundKey })).status).toBe(200);
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: refundKey })).status).toBe(200);
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: randomUUID() })).status).toBe(409);

    const after = await payments();
    expect({ completed: after.completed - before.completed, failed: after.failed - before.failed, refunded: after.refunded - before.refunded }).toEqual({
      completed: 1,
      failed: 1,
      refunded: 1,
    });
  });

  it('documents exactly the routes it serves', async () => {
    const doc = (await (await fetch(`${host.url}/api/payment/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>> };
    expect(doc.paths['/api/payment/payments']?.post?.parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    expect(openApiDrift(host, paymentDomain)).toEqual({ undocumented: [], unserved: [] });
  });
});

describe('the payment API on embedded PGlite', () => {
  let host: Host;
  let db: Database;
  let auth: FakeAuth;

  beforeAll(async () => {
    auth = await fakeAuth();
    host = await startTestHost([auth.domain, paymentDomain]);
    db = host.databases.get('payment') as Database;
  });
  afterAll(async () => {
    await host?.close();
  });

  it('pays once under concurrent repeats, refunds once, and books both', async () => {
    expect(db.kind).toBe('embedded');
    const userId = randomUUID();
    const api = client(host.url, await auth.token(userId));
    const key = randomUUID();
    const request = paymentRequest({ amountCents: 650 });

    const replies = await Promise.all(Array.from({ length: 10 }, () => api.post<PaymentBody>('/api/payment/payments', { key, body: request })));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(replies.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    const id = replies[0]?.body.id;
    expect(await count(db, 'SELECT count(*) FROM provider_charges')).toBe(1);

    const refundKey = randomUUID();
    const refund = await api.post<PaymentBody>(`/api/payment/payments/${id}/refund`, { key: refundKey });
    expect(refund.body.status).toBe('refunded');
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: refundKey })).text).toBe(refund.text);
    expect((await api.post(`/api/payment/payments/${id}/refund`, { key: randomUUID() })).status).toBe(409);

    expect(await count(db, 'SELECT count(*) FROM provider_refunds')).toBe(1);
    expect(await count(db, 'SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries')).toBe(0);
    expect((await outboxOfUser(db, userId)).map((e) => e.name)).toEqual(['payment.completed', 'payment.refunded']);
  });
});
