/**
 * How the offered load changes over a run. Open shapes (steady, step, spike)
 * send at a target rate whatever the answers do, as independent users do;
 * `closed` keeps a fixed number of requests in flight, each sent as the last
 * one returns: it finds the most a target serves (its capacity).
 */
export type LoadShape =
  | { readonly kind: 'steady'; readonly seconds: number; readonly rate: number }
  /** From `from` to `to` requests/s in `steps` equal steps over the run. */
  | { readonly kind: 'step'; readonly seconds: number; readonly from: number; readonly to: number; readonly steps: number }
  /** `rate`, with `peak` from `at` for `spikeSeconds`. */
  | { readonly kind: 'spike'; readonly seconds: number; readonly rate: number; readonly peak: number; readonly at: number; readonly spikeSeconds: number }
  | { readonly kind: 'closed'; readonly seconds: number; readonly concurrency: number };

export type OpenShape = Exclude<LoadShape, { kind: 'closed' }>;

const positive = (field: string, value: number) => {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field} must be a number > 0, got ${value}`);
};

/** Throws a RangeError naming the first bad field. */
export function checkShape(shape: LoadShape): LoadShape {
  positive('seconds', shape.seconds);
  switch (shape.kind) {
    case 'steady':
      positive('rate', shape.rate);
      break;
    case 'step':
      positive('from', shape.from);
      positive('to', shape.to);
      if (!Number.isInteger(shape.steps) || shape.steps < 2) throw new RangeError(`steps must be a whole number >= 2, got ${shape.steps}`);
      break;
    case 'spike':
      positive('rate', shape.rate);
      positive('peak', shape.peak);
      positive('spikeSeconds', shape.spikeSeconds);
      if (!(shape.at >= 0 && shape.at + shape.spikeSeconds <= shape.seconds)) {
        throw new RangeError(`at must be >= 0 and the spike must end within the run (at + spikeSeconds <= ${shape.seconds}), got at=${shape.at}`);
      }
      break;
    case 'closed':
      if (!Number.isInteger(shape.concurrency) || shape.concurrency < 1) {
        throw new RangeError(`concurrency must be a whole number >= 1, got ${shape.concurrency}`);
      }
      break;
  }
  return shape;
}

/** The target rate (requests/s) at `t` seconds into the run; 0 outside it. */
export function rateAt(shape: OpenShape, t: number): number {
  if (t < 0 || t >= shape.seconds) return 0;
  switch (shape.kind) {
    case 'steady':
      return shape.rate;
    case 'step': {
      const step = Math.min(shape.steps - 1, Math.floor(t / (shape.seconds / shape.steps)));
      return shape.from + ((shape.to - shape.from) * step) / (shape.steps - 1);
    }
    case 'spike':
      return t >= shape.at && t < shape.at + shape.spikeSeconds ? shape.peak : shape.rate;
  }
}

/** The points where the rate changes, with 0 and the run's end: between two of them it is constant. */
function breakpoints(shape: OpenShape): number[] {
  switch (shape.kind) {
    case 'steady':
      return [0, shape.seconds];
    case 'step':
      return Array.from({ length: shape.steps + 1 }, (_, i) => (shape.seconds * i) / shape.steps);
    case 'spike':
      return [0, shape.at, shape.at + shape.spikeSeconds, shape.seconds];
  }
}

/**
 * Requests due by `t` seconds: the integral of the rate from 0 to t. The
 * scheduler sends request n when this reaches n, so the count sent matches
 * the shape exactly, however the timer ticks.
 */
export function dueBy(shape: OpenShape, t: number): number {
  const end = Math.min(Math.max(t, 0), shape.seconds);
  const points = breakpoints(shape);
  let total = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i] as number;
    const to = Math.min(points[i + 1] as number, end);
    if (to <= from) break;
    total += rateAt(shape, from) * (to - from);
  }
  return total;
}

/** Human-readable, for progress lines and reports. */
export function describeShape(shape: LoadShape): string {
  switch (shape.kind) {
    case 'steady':
      return `steady ${shape.rate}/s for ${shape.seconds} s`;
    case 'step':
      return `step ${shape.from} -> ${shape.to}/s in ${shape.steps} steps over ${shape.seconds} s`;
    case 'spike':
      return `spike ${shape.rate}/s, ${shape.peak}/s from ${shape.at} s for ${shape.spikeSeconds} s, ${shape.seconds} s in all`;
    case 'closed':
      return `closed, ${shape.concurrency} in flight for ${shape.seconds} s`;
  }
}
