import { Histogram } from './histogram.js';
import { describeShape } from './shapes.js';
import type { LoadShape } from './shapes.js';

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/**
 * One line a second: on a terminal it rewrites itself in place; elsewhere
 * (CI logs, pipes) each second is a plain line of its own.
 */
export class Progress {
  private second = new Histogram();
  private errors = 0;
  private totalErrors = 0;
  private total = 0;
  private inFlight = 0;
  private missed = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private wrote = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly label: string,
    private readonly shape: LoadShape,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.line(`[${this.label}] ${describeShape(this.shape)}`, true);
    this.timer = setInterval(() => this.flush(), 1_000);
    this.timer.unref();
  }

  record(latencyMs: number, ok: boolean): void {
    this.second.record(latencyMs);
    this.total += 1;
    if (!ok) {
      this.errors += 1;
      this.totalErrors += 1;
    }
  }

  tick(inFlight: number, missed: number): void {
    this.inFlight = inFlight;
    this.missed = missed;
  }

  stop(): void {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1_000;
    this.line(`[${this.label}] done: ${this.total} requests in ${seconds.toFixed(1)} s, ${this.totalErrors} errors`, true);
  }

  private flush(): void {
    const elapsed = (performance.now() - this.startedAt) / 1_000;
    const h = this.second;
    const parts = [
      `[${this.label}] ${Math.min(elapsed, this.shape.seconds).toFixed(0)}/${this.shape.seconds} s`,
      `${h.count} req/s`,
      `p50 ${ms(h.percentile(50))} ms`,
      `p99 ${ms(h.percentile(99))} ms`,
      `errors ${this.errors}/s (${this.totalErrors} in all)`,
      `in flight ${this.inFlight}`,
    ];
    if (this.missed > 0) parts.push(`behind target: ${this.missed} not sent`);
    this.line(parts.join('  '), false);
    this.second = new Histogram();
    this.errors = 0;
  }

  private line(text: string, plain: boolean): void {
    if (this.out.isTTY && !plain) {
      this.out.write(`\r\x1b[2K${text}`);
      this.wrote = true;
    } else {
      if (this.out.isTTY && this.wrote) this.out.write('\n');
      this.wrote = false;
      this.out.write(`${text}\n`);
    }
  }
}
