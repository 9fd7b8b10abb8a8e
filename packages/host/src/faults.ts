import type { EventBus } from '@portal/contracts';
import type { Logger } from '@portal/observability';

/**
 * Crashes on purpose at the two moments the outbox exists for, so that drills
 * and the fault tests can prove nothing is lost and nothing applied twice:
 * - 'crash-before-publish': the change and its events are committed, the
 *   process dies before anything reaches the bus;
 * - 'crash-after-publish': the bus has the events, the process dies before the
 *   outbox marks them sent, so they go out again after the restart;
 * - 'crash-in-payment': the payment module's next committed events (a payment
 *   taken) kill the process, whatever else it hosts: a payment bug's blast
 *   radius is its process (the whole monolith, or only the payment service),
 *   as `npm run compare` measures.
 */
export const FAULTS = ['crash-before-publish', 'crash-after-publish', 'crash-in-payment'] as const;
export type Fault = (typeof FAULTS)[number];

/** The bus as the outbox relays see it, with the fault armed. SIGKILL (or, as PID 1, an immediate exit 137): no shutdown hooks run, as in a real crash. */
export function withFault(bus: EventBus, fault: Fault, logger: Logger): EventBus {
  const crash = (): never => {
    logger.error('FAULT_INJECTION: crashing now', { fault });
    process.kill(process.pid, 'SIGKILL');
    // Still here: this is PID 1 in a container (no init), where the kernel drops a signal the
    // process sends itself. Exit at once instead: no event-loop turn follows, nothing is published.
    process.exit(137);
  };
  return {
    subscribe: (subscription) => bus.subscribe(subscription),
    start: () => bus.start(),
    stop: () => bus.stop(),
    publish: async (events) => {
      if (fault === 'crash-in-payment') {
        if (events.some((event) => event.name.startsWith('payment.'))) crash();
        return bus.publish(events);
      }
      if (fault === 'crash-before-publish') crash();
      await bus.publish(events);
      crash();
    },
  };
}
