import 'reflect-metadata';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DomainContext, DomainDefinition } from './domain.js';
import type { Host } from './host.js';
import { startTestHost } from './testing.js';

// A domain whose one slow route waits until the test lets it go, then still
// needs the database: a request in flight when the drain begins.
const CONTEXT = Symbol('CONTEXT');
let release: () => void = () => undefined;
let entered: () => void = () => undefined;
let slowEntered = new Promise<void>((resolve) => (entered = resolve));
let handled = { slow: 0, fast: 0 };

@Controller('api/blog')
class DrainController {
  constructor(@Inject(CONTEXT) private readonly context: DomainContext) {}

  @Get('slow')
  async slow() {
    handled.slow += 1;
    const gate = new Promise<void>((resolve) => (release = resolve));
    entered();
    await gate;
    const { rows } = await this.context.database.query<{ n: number }>('SELECT 1 AS n');
    return { finished: rows[0]?.n === 1 };
  }

  @Get('fast')
  fast() {
    handled.fast += 1;
    return { fast: true };
  }
}

const drainDomain: DomainDefinition = {
  name: 'blog',
  migrations: [],
  api: { info: { title: 'drain', version: '1' }, routes: [] },
  module: (context): DynamicModule => {
    @Module({ controllers: [DrainController], providers: [{ provide: CONTEXT, useValue: context }] })
    class DrainModule {}
    return { module: DrainModule };
  },
};

/** Resolves with everything the server sent on `socket` once it closes the connection. */
const responseOf = (socket: Socket): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.once('close', () => resolve(text));
    socket.once('error', reject);
  });

const connected = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

describe('a host closing (what SIGTERM does)', () => {
  let host: Host | undefined;
  afterEach(async () => {
    release();
    await host?.close();
    host = undefined;
    handled = { slow: 0, fast: 0 };
    slowEntered = new Promise<void>((resolve) => (entered = resolve));
  });

  it('refuses new connections, answers 503 to a request arriving during the drain, and finishes the one in flight first', async () => {
    host = await startTestHost([drainDomain]);
    const port = Number(new URL(host.url).port);

    // A client that has begun a request but not finished sending it: its
    // connection is not idle, so the drain does not simply drop it.
    const late = await connected(port);
    const lateResponse = responseOf(late);
    late.write('GET /api/blog/fast HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    const inFlight = fetch(`${host.url}/api/blog/slow`);
    await slowEntered;

    let closed = false;
    const closing = host.close().then(() => (closed = true));
    const server = host.app.getHttpServer();
    await vi.waitFor(() => expect(server.listening).toBe(false), { timeout: 10_000, interval: 5 });

    // Stop taking work: a new connection is refused...
    const refused = await connected(port).then(
      (socket) => (socket.destroy(), 'connected'),
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe('ECONNREFUSED');

    // ...and a request that arrives now on a connection already open gets 503
    // and is told to go elsewhere, without reaching any handler.
    late.write('\r\n');
    const answer = await lateResponse;
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toMatch(/^connection: close\r$/im);
    expect(answer).toMatch(/^content-type: application\/problem\+json/im);
    expect(answer).toMatch(/^retry-after: 1\r$/im);
    expect(answer).toContain('"detail":"this instance is shutting down; another one will answer"');
    expect(handled.fast).toBe(0);

    // The request in flight is still being served, and the host waits for it.
    expect(closed).toBe(false);
    const released = performance.now();
    release();
    const done = await inFlight;
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ finished: true });
    expect(handled.slow).toBe(1);

    // And is done soon after: the client's keep-alive connection, idle once
    // answered, does not hold the close open until its timeout (72 s).
    await closing;
    expect(performance.now() - released).toBeLessThan(5_000);
  });
});
