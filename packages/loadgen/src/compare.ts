import { HttpClient } from './http.js';
import { OPERATIONS, PORTAL_MIX, WEBTOON_HEAVY_MIX, seededRandom, withoutService } from './mix.js';
import { runLoad, summarize } from './run.js';
import type { LoadReport, RequestResult, Summary } from './run.js';
import { prepare } from './setup.js';
import type { Content } from './setup.js';
import type { Deployer, ShapeName, Stack } from './stack.js';

/** How long and how hard each experiment runs. */
export interface CompareSize {
  readonly name: string;
  /** Accounts per set-up. */
  readonly users: number;
  /** Unmeasured load on a fresh stack first (JIT, caches, connection pools). */
  readonly warmupSeconds: number;
  /** Closed: the most each shape serves with this many requests in flight. */
  readonly capacity: { readonly seconds: number; readonly concurrency: number };
  /** Open: latency at the same offered rate for both shapes, below either's capacity. */
  readonly latency: { readonly seconds: number; readonly rate: number };
  /** Payment crashes `preSeconds` into a steady load; the window runs from the crash for `windowSeconds`. */
  readonly failure: { readonly rate: number; readonly preSeconds: number; readonly windowSeconds: number };
  /** Closed, webtoon-heavy mix, at 1 and at 2 webtoon replicas. */
  readonly scaling: { readonly seconds: number; readonly concurrency: number };
}

export const SIZES: Readonly<Record<'ci' | 'full', CompareSize>> = {
  ci: {
    name: 'ci',
    users: 3,
    warmupSeconds: 1,
    capacity: { seconds: 4, concurrency: 16 },
    latency: { seconds: 5, rate: 60 },
    failure: { rate: 50, preSeconds: 2, windowSeconds: 4 },
    scaling: { seconds: 4, concurrency: 16 },
  },
  full: {
    name: 'full',
    users: 8,
    warmupSeconds: 5,
    capacity: { seconds: 30, concurrency: 32 },
    latency: { seconds: 60, rate: 150 },
    failure: { rate: 100, preSeconds: 10, windowSeconds: 20 },
    scaling: { seconds: 30, concurrency: 32 },
  },
};

export type Figures = Summary;

export interface Share {
  readonly requests: number;
  readonly failed: number;
  /** failed / requests; 0 when there were none. */
  readonly share: number;
}

export interface FailureResult {
  readonly rate: number;
  /** From the trigger payment to the process's exit. */
  readonly crashAfterMs: number;
  /** From the crash to the end of the load. */
  readonly windowSeconds: number;
  /** Non-payment requests sent before the trigger: the control. */
  readonly before: Share;
  /** Non-payment requests sent in the crash window: the result. */
  readonly window: Share;
  /** Payment requests (a client listing its payments, 5 a second) in the window: shows payment was down in both shapes. */
  readonly payment: Share;
}

export interface ShapeResult {
  readonly shape: ShapeName;
  readonly parts: readonly string[];
  readonly startupMs: number;
  /** null: no images in this mode. */
  readonly imageBytes: number | null;
  readonly memory: { readonly idleBytes: number; readonly peakBytes: number };
  readonly capacity: Figures & { readonly concurrency: number; readonly seconds: number };
  readonly latency: Figures & {
    readonly rate: number;
    readonly seconds: number;
    readonly targetReached: boolean;
    readonly routes: readonly (Figures & { readonly route: string })[];
  };
  readonly failure: FailureResult;
}

export interface ScalingRun {
  readonly replicas: number;
  readonly webtoon: Figures;
  readonly rest: Figures;
}

export interface CompareResult {
  readonly mode: Stack['mode'];
  readonly size: CompareSize;
  readonly monolith: ShapeResult;
  readonly services: ShapeResult;
  readonly scaling: { readonly mix: string; readonly concurrency: number; readonly seconds: number; readonly runs: readonly ScalingRun[] };
}

export interface CompareOptions {
  readonly deployer: Deployer;
  readonly size: CompareSize;
  readonly log?: (line: string) => void;
  /** Live progress of each load run; false for none. */
  readonly progress?: NodeJS.WriteStream | false;
}

/** The trigger payment must have crashed its host by then. */
const CRASH_BOUND_MS = 15_000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(200);
  }
}

/** Samples the stack's memory while `work` runs; the peak of the sums. */
async function peakMemory<T>(stack: Stack, work: Promise<T>): Promise<{ value: T; peakBytes: number }> {
  let peak = await stack.memoryBytes();
  let done = false;
  const sampling = (async () => {
    while (!done) {
      await delay(500);
      peak = Math.max(peak, await stack.memoryBytes());
    }
  })();
  try {
    return { value: await work, peakBytes: peak };
  } finally {
    done = true;
    await sampling;
  }
}

const share = (results: readonly RequestResult[]): Share => {
  const failed = results.filter((r) => !r.ok).length;
  return { requests: results.length, failed, share: results.length === 0 ? 0 : failed / results.length };
};

/**
 * The payment crash drill: a steady load without payment requests; `pre`
 * seconds in, one payment sets off the armed crash in whatever hosts the
 * payment module; from the moment it dies, the share of the other requests
 * that fail. A client checking its payments 5 times a second shows payment
 * was down in both shapes.
 */
async function failureDrill(stack: Stack, options: CompareOptions): Promise<FailureResult> {
  const { rate, preSeconds, windowSeconds } = options.size.failure;
  const log = options.log ?? (() => undefined);
  log(`${stack.shape}: arming the payment crash (FAULT_INJECTION=crash-in-payment on what hosts payment)`);
  const { crashed } = await stack.armPaymentCrash();
  const content = await prepare(stack.baseUrl, { users: options.size.users, log });
  const client = new HttpClient(stack.baseUrl, { connections: 4, timeoutMs: 2_000 });
  const listPayments = OPERATIONS.listPayments.build(content, seededRandom(7));
  const paymentAnswers = async () => {
    const outcome = await client.send(listPayments);
    return 'status' in outcome && outcome.status === 200;
  };
  const stop = new AbortController();
  let load: Promise<LoadReport> | undefined;
  try {
    // Through the gateway the restarted instance may sit out its ejection first.
    await waitFor(`${stack.shape}: payment answering at ${stack.baseUrl}`, 30_000, paymentAnswers);
    const results: RequestResult[] = [];
    load = runLoad({
      baseUrl: stack.baseUrl,
      mix: withoutService(PORTAL_MIX, 'payment'),
      // Long enough for a slow crash; ended windowSeconds after the crash.
      shape: { kind: 'steady', rate, seconds: preSeconds + CRASH_BOUND_MS / 1_000 + windowSeconds },
      content,
      seed: 3,
      label: `${stack.shape}: payment crash drill`,
      progress: options.progress,
      onResult: (r) => results.push(r),
      signal: stop.signal,
    });
    await delay(preSeconds * 1_000);
    const triggerAt = performance.now();
    log(`${stack.shape}: sending the payment that crashes it`);
    void client.send(OPERATIONS.pay.build(content, seededRandom(11)));
    let timer: NodeJS.Timeout | undefined;
    const crashAt = await Promise.race([
      crashed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${stack.shape}: the payment host did not crash within ${CRASH_BOUND_MS} ms of the trigger payment`)), CRASH_BOUND_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    log(`${stack.shape}: payment's host died ${Math.round(crashAt - triggerAt)} ms after the trigger`);
    const endsAt = crashAt + windowSeconds * 1_000;
    const probes: boolean[] = [];
    while (performance.now() < endsAt) {
      probes.push(await paymentAnswers());
      await delay(200);
    }
    stop.abort();
    const report = await load;
    const others = results.filter((r) => r.service !== 'payment');
    const payment = { requests: probes.length, failed: probes.filter((ok) => !ok).length };
    return {
      rate,
      crashAfterMs: crashAt - triggerAt,
      windowSeconds: (report.endsAt - crashAt) / 1_000,
      before: share(others.filter((r) => r.sentAt < triggerAt)),
      window: share(others.filter((r) => r.sentAt >= crashAt)),
      payment: { ...payment, share: payment.requests === 0 ? 0 : payment.failed / payment.requests },
    };
  } finally {
    // On a failure too: no load left running against a stack about to stop.
    stop.abort();
    await load?.catch(() => undefined);
    await client.close();
  }
}

const figuresOf = (report: LoadReport, include?: Parameters<typeof summarize>[1]): Figures => summarize(report, include);

async function warmUp(stack: Stack, content: Content, options: CompareOptions, mix = PORTAL_MIX): Promise<void> {
  if (options.size.warmupSeconds <= 0) return;
  await runLoad({
    baseUrl: stack.baseUrl,
    mix,
    shape: { kind: 'closed', seconds: options.size.warmupSeconds, concurrency: 4 },
    content,
    label: `${stack.shape}: warm-up`,
    progress: false,
  });
}

async function scaling(stack: Stack, content: Content, options: CompareOptions): Promise<CompareResult['scaling']> {
  const { seconds, concurrency } = options.size.scaling;
  const runs: ScalingRun[] = [];
  for (const replicas of [1, 2]) {
    options.log?.(`services: webtoon at ${replicas} replica${replicas > 1 ? 's' : ''}`);
    await stack.scaleWebtoon(replicas);
    await warmUp(stack, content, options, WEBTOON_HEAVY_MIX);
    const report = await runLoad({
      baseUrl: stack.baseUrl,
      mix: WEBTOON_HEAVY_MIX,
      shape: { kind: 'closed', seconds, concurrency },
      content,
      label: `services: webtoon x${replicas}`,
      progress: options.progress,
    });
    runs.push({ replicas, webtoon: figuresOf(report, (s) => s.service === 'webtoon'), rest: figuresOf(report, (s) => s.service !== 'webtoon') });
  }
  await stack.scaleWebtoon(1);
  return { mix: WEBTOON_HEAVY_MIX.name, concurrency, seconds, runs };
}

async function measureShape(shape: ShapeName, options: CompareOptions): Promise<{ result: ShapeResult; scaling?: CompareResult['scaling'] }> {
  const log = options.log ?? (() => undefined);
  const { size } = options;
  log(`${shape}: starting (${options.deployer.mode} mode)`);
  const stack = await options.deployer.start(shape);
  try {
    log(`${shape}: ready in ${(stack.startupMs / 1_000).toFixed(1)} s: ${stack.parts().join(', ')}`);
    const parts = stack.parts();
    const idleBytes = await stack.memoryBytes();
    const content = await prepare(stack.baseUrl, { users: size.users, log });
    await warmUp(stack, content, options);

    const capacity = await peakMemory(
      stack,
      runLoad({
        baseUrl: stack.baseUrl,
        mix: PORTAL_MIX,
        shape: { kind: 'closed', ...size.capacity },
        content,
        label: `${shape}: capacity`,
        progress: options.progress,
      }),
    );
    const latency = await peakMemory(
      stack,
      runLoad({
        baseUrl: stack.baseUrl,
        mix: PORTAL_MIX,
        shape: { kind: 'steady', ...size.latency },
        content,
        label: `${shape}: latency at ${size.latency.rate}/s`,
        progress: options.progress,
      }),
    );
    const scaled = shape === 'services' ? await scaling(stack, content, options) : undefined;
    const failure = await failureDrill(stack, options);
    const routes = [...latency.value.routes.values()].map((s) => ({ route: s.route, ...figuresOf(latency.value, (r) => r === s) }));
    return {
      result: {
        shape,
        parts,
        startupMs: stack.startupMs,
        imageBytes: (await stack.imageBytes()) ?? null,
        memory: { idleBytes, peakBytes: Math.max(capacity.peakBytes, latency.peakBytes) },
        capacity: { ...figuresOf(capacity.value), ...size.capacity },
        latency: { ...figuresOf(latency.value), ...size.latency, targetReached: latency.value.targetReached, routes },
        failure,
      },
      scaling: scaled,
    };
  } finally {
    log(`${shape}: stopping`);
    await stack.stop();
  }
}

/**
 * The comparison: each shape in turn on this machine (never both at once),
 * under the same mix and sizes: start-up, memory, capacity, latency at a
 * fixed rate, the payment crash drill; and webtoon scaled alone in the
 * services shape.
 */
export async function compare(options: CompareOptions): Promise<CompareResult> {
  const monolith = await measureShape('monolith', options);
  const services = await measureShape('services', options);
  if (!services.scaling) throw new Error('services: the scaling experiment did not run');
  return { mode: options.deployer.mode, size: options.size, monolith: monolith.result, services: services.result, scaling: services.scaling };
}
