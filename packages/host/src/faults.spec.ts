import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnyDomainEvent, EventBus } from '@portal/contracts';
import { createLogger } from '@portal/observability';
import { withFault } from './faults.js';

const event = (name: string) => ({ name }) as unknown as AnyDomainEvent;

function recordingBus() {
  const published: string[] = [];
  const bus: EventBus = {
    publish: async (events) => void published.push(...events.map((e) => e.name)),
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  return { bus, published };
}

describe("FAULT_INJECTION 'crash-in-payment'", () => {
  afterEach(() => vi.restoreAllMocks());

  it("passes other modules' events through, and kills the process at the payment module's first, before they go out", async () => {
    // The real SIGKILL would end the test runner: record it instead, and the exit that follows
    // when the signal was dropped (PID 1 in a container), which is what a recorded kill looks like.
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const { bus, published } = recordingBus();
    const faulty = withFault(bus, 'crash-in-payment', createLogger('test', { level: 'error' }));

    await faulty.publish([event('article.published'), event('comment.added')]);
    expect(kill).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
    expect(published).toEqual(['article.published', 'comment.added']);

    await expect(faulty.publish([event('payment.completed')])).rejects.toThrow('exit 137');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGKILL');
    expect(exit).toHaveBeenCalledWith(137);
    expect(published).toEqual(['article.published', 'comment.added']);
  });
});
