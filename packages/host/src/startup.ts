import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Logger } from '@portal/observability';

/**
 * Services start in any order (a Kubernetes apply starts everything at once):
 * a dependency that does not answer yet is waited for, with a bound and a log
 * line per attempt, instead of crashing the process into a restart loop.
 */
export interface WaitOptions {
  readonly logger: Logger;
  /** How long to keep trying before giving up (the process then exits 1). */
  readonly boundMs: number;
  /** Whether an error means "not there yet"; anything else fails at once. */
  readonly transient?: (error: unknown) => boolean;
  /** Called with what is awaited, for the placeholder readiness answer. */
  readonly onWaiting?: (what: string, reason: string) => void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

const message = (error: unknown): string => (error instanceof Error ? error.message || error.name : String(error));

/** Runs `attempt` until it succeeds, retrying transient failures with backoff for at most `boundMs`. */
export async function untilReachable<T>(what: string, options: WaitOptions, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.boundMs;
  let delay = FIRST_DELAY_MS;
  for (let tries = 1; ; tries++) {
    try {
      const result = await attempt();
      if (tries > 1) options.logger.info(`${what} answers`, { after: tries });
      return result;
    } catch (error) {
      if (options.transient && !options.transient(error)) throw error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${what} did not answer within ${Math.round(options.boundMs / 1000)} s (STARTUP_WAIT_SECONDS): ${message(error)}`, { cause: error });
      }
      options.onWaiting?.(what, message(error));
      options.logger.warn(`waiting for ${what}`, { attempt: tries, error: message(error), retryInMs: Math.min(delay, left), giveUpInSeconds: Math.ceil(left / 1000) });
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

/**
 * Answers health probes on the service's port while it waits for its
 * dependencies: live (the process is up and waiting within its bound), not
 * ready (503, naming what it waits for); any other request gets 503 with
 * Retry-After. Closed just before the real server listens on the same port.
 */
export class StartingServer {
  #waitingFor: Record<string, string> = {};
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(port: number, host: string): Promise<StartingServer> {
    const ref: { server?: StartingServer } = {};
    const server = createServer((req, res) => {
      const live = req.url === '/health/live';
      const body = JSON.stringify(live ? { status: 'ok' } : { status: 'starting', checks: ref.server?.waiting() ?? {} });
      res.writeHead(live ? 200 : 503, { 'content-type': 'application/json', 'retry-after': '2', connection: 'close' });
      res.end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    ref.server = new StartingServer(server);
    return ref.server;
  }

  waiting(): Record<string, string> {
    return this.#waitingFor;
  }

  set(what: string, reason: string): void {
    this.#waitingFor = { ...this.#waitingFor, [what]: `waiting: ${reason}` };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
