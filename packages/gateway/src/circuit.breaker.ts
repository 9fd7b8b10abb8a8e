export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open it. */
  readonly failures: number;
  /** How long it stays open before one trial request is let through. */
  readonly openMs: number;
}

/**
 * One per upstream service. Open, it answers at once instead of letting
 * requests queue on a dead service; half-open, one trial request decides
 * whether it closes again.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openUntil = 0;
  #trialInFlight = false;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.#state;
  }

  /** Milliseconds until it lets a trial through; 0 when closed. */
  retryAfterMs(now = Date.now()): number {
    return this.#state === 'closed' ? 0 : Math.max(0, this.#openUntil - now);
  }

  /** Whether a request may go upstream now; a `true` in half-open state is the trial. */
  allow(now = Date.now()): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' && now >= this.#openUntil) this.#state = 'half-open';
    if (this.#state === 'half-open' && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.#state = 'closed';
    this.#failures = 0;
    this.#trialInFlight = false;
  }

  failure(now = Date.now()): void {
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.options.failures) this.open(now);
  }

  /**
   * The trial request ended saying nothing about the service (its client left,
   * it was refused before being sent, it never left the pool's queue): the
   * next request is the trial instead. Without this it would stay half-open
   * and refuse everything, waiting for an answer that never comes.
   */
  abandonTrial(): void {
    if (this.#state === 'half-open') this.#trialInFlight = false;
  }

  /** Opens it at once, e.g. when every instance of the service is failing. */
  open(now = Date.now()): void {
    this.#state = 'open';
    this.#openUntil = now + this.options.openMs;
    this.#trialInFlight = false;
  }
}
