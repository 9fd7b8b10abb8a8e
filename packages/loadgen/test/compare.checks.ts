import { expect } from 'vitest';
import type { CompareResult } from '@portal/loadgen';

/** What the comparison must show in either mode: no errors but the drill's. */
export function expectNoErrorsOutsideTheDrill(result: CompareResult): void {
  for (const shape of [result.monolith, result.services]) {
    expect(shape.capacity.errors, `${shape.shape} capacity`).toBe(0);
    expect(shape.latency.errors, `${shape.shape} latency`).toBe(0);
    expect(shape.failure.before.failed, `${shape.shape} before the crash`).toBe(0);
  }
  for (const run of result.scaling.runs) expect(run.webtoon.errors + run.rest.errors, `webtoon x${run.replicas}`).toBe(0);
}

/** Failure isolation, measured: with payment down, the other requests fail in the monolith and not in the services. */
export function expectFailureIsolation({ monolith, services }: CompareResult): void {
  // Payment was down in both shapes.
  expect(monolith.failure.payment.share).toBeGreaterThan(0.9);
  expect(services.failure.payment.share).toBeGreaterThan(0.9);
  // The services: near zero. The monolith: its one process is gone, and everything with it.
  expect(services.failure.window.share).toBeLessThan(0.01);
  expect(monolith.failure.window.share).toBeGreaterThan(0.9);
}
