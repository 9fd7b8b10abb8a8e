import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Topic names: `portal.<producing domain>.events`, one topic per producer. All
 * of a domain's events about one aggregate share the aggregate id as key, so
 * they land in one partition and stay in order (a payment's completion before
 * its refund). Dead letters go to `portal.<consumer group>.dead-letter`.
 */
export const TOPICS = {
  auth: 'portal.auth.events',
  news: 'portal.news.events',
  blog: 'portal.blog.events',
  webtoon: 'portal.webtoon.events',
  payment: 'portal.payment.events',
} as const;

/** Where a consumer group's events go when they cannot be handled. */
export const deadLetterTopic = (group: string): string => `portal.${group}.dead-letter`;

const itemRef = z.object({ type: z.literal('episode'), id: z.uuid() });
const money = { amountCents: z.int().positive(), currency: z.string().regex(/^[A-Z]{3}$/) };

/**
 * Every domain event, by name, with the version producers write today and the
 * schema of its payload. A breaking change adds a new version here; it is the
 * only place an event's shape is defined.
 */
export const EVENTS = {
  'user.registered': {
    version: 1,
    topic: TOPICS.auth,
    payload: z.object({ userId: z.uuid(), email: z.email(), displayName: z.string().min(1) }),
  },
  'article.published': {
    version: 1,
    topic: TOPICS.news,
    payload: z.object({
      articleId: z.uuid(),
      authorId: z.uuid(),
      category: z.string().min(1),
      title: z.string().min(1),
    }),
  },
  'post.created': {
    version: 1,
    topic: TOPICS.blog,
    payload: z.object({ postId: z.uuid(), authorId: z.uuid(), title: z.string().min(1) }),
  },
  'comment.added': {
    version: 1,
    topic: TOPICS.blog,
    payload: z.object({ commentId: z.uuid(), postId: z.uuid(), authorId: z.uuid() }),
  },
  'episode.viewed': {
    // Views are counted in short windows, not one event per read: reading is
    // the hot path, and a write per read would dominate it.
    version: 1,
    topic: TOPICS.webtoon,
    payload: z.object({
      episodeId: z.uuid(),
      seriesId: z.uuid(),
      views: z.int().positive(),
      windowStart: z.iso.datetime(),
      windowEnd: z.iso.datetime(),
    }),
  },
  'payment.completed': {
    version: 1,
    topic: TOPICS.payment,
    payload: z.object({ paymentId: z.uuid(), userId: z.uuid(), item: itemRef, ...money }),
  },
  'payment.failed': {
    version: 1,
    topic: TOPICS.payment,
    payload: z.object({ paymentId: z.uuid(), userId: z.uuid(), item: itemRef, ...money, reason: z.string().min(1) }),
  },
  'payment.refunded': {
    version: 1,
    topic: TOPICS.payment,
    payload: z.object({ paymentId: z.uuid(), userId: z.uuid(), item: itemRef, ...money }),
  },
} as const;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventPayload<N extends EventName> = z.infer<(typeof EVENTS)[N]['payload']>;

/** The envelope every event travels in, whatever the transport. */
export interface DomainEvent<N extends EventName = EventName> {
  readonly id: string;
  readonly name: N;
  readonly version: number;
  /** ISO 8601 time the change happened. */
  readonly occurredAt: string;
  /** The request id of the request that caused it, so a flow can be followed across services. */
  readonly traceId: string;
  /** The entity the event is about; the partition key, so one aggregate's events stay in order. */
  readonly aggregateId: string;
  readonly payload: EventPayload<N>;
}

/** Any event: a union over names, so `switch (event.name)` narrows the payload. */
export type AnyDomainEvent = { [N in EventName]: DomainEvent<N> }[EventName];

export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

const envelope = z.object({
  id: z.uuid(),
  name: z.enum(EVENT_NAMES as [EventName, ...EventName[]]),
  version: z.int().positive(),
  occurredAt: z.iso.datetime(),
  traceId: z.string().min(1),
  aggregateId: z.string().min(1),
  payload: z.unknown(),
});

function describe(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues.map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`).join('; ');
}

/** Builds an event and validates its payload: a producer cannot emit a malformed event. */
export function createEvent<N extends EventName>(
  name: N,
  payload: EventPayload<N>,
  context: { aggregateId: string; traceId: string; occurredAt?: Date; id?: string },
): DomainEvent<N> {
  const result = EVENTS[name].payload.safeParse(payload);
  if (!result.success) throw new ContractViolation(`${name}: ${describe(result.error.issues, 'payload')}`);
  return {
    id: context.id ?? randomUUID(),
    name,
    version: EVENTS[name].version,
    occurredAt: (context.occurredAt ?? new Date()).toISOString(),
    traceId: context.traceId,
    aggregateId: context.aggregateId,
    payload: result.data as EventPayload<N>,
  };
}

/** Validates an event that arrived from elsewhere: envelope, known name and version, payload. */
export function parseEvent(raw: unknown): AnyDomainEvent {
  const outer = envelope.safeParse(raw);
  if (!outer.success) throw new ContractViolation(`event envelope: ${describe(outer.error.issues, '')}`);
  const { name, version } = outer.data;
  const spec = EVENTS[name];
  if (version !== spec.version) {
    throw new ContractViolation(`${name}: version ${version} is not known here (expected ${spec.version})`);
  }
  const payload = spec.payload.safeParse(outer.data.payload);
  if (!payload.success) throw new ContractViolation(`${name}: ${describe(payload.error.issues, 'payload')}`);
  return { ...outer.data, payload: payload.data } as AnyDomainEvent;
}
