/** The two ways the portal ships: one process with every module, or a service per module behind the gateway. */
export type ShapeName = 'monolith' | 'services';
export const SHAPES: readonly ShapeName[] = ['monolith', 'services'];

/**
 * A running deployment of one shape, as the comparison sees it: process mode
 * (node processes on this machine, process.stack.ts) and container mode (a
 * Compose project, container.stack.ts) implement it, and the experiments
 * need nothing else.
 */
export interface Stack {
  readonly shape: ShapeName;
  readonly mode: 'process' | 'container';
  /** http://host:port where /api/... answers: the monolith, or the gateway. */
  readonly baseUrl: string;
  /** From starting the first part to every part ready (its ready line; in containers, healthy). */
  readonly startupMs: number;
  /** The processes (or containers) now running, by name. */
  parts(): readonly string[];
  /** Memory of every part, summed: resident set size of processes, `docker stats` usage of containers. */
  memoryBytes(): Promise<number>;
  /** Sum of the images' sizes; undefined where there are no images (process mode). */
  imageBytes(): Promise<number | undefined>;
  /**
   * Restarts whatever hosts the payment module with its crash armed
   * (FAULT_INJECTION=crash-in-payment): the next payment kills it. Resolves
   * once it is up again, with a promise of the moment (performance.now())
   * it died.
   */
  armPaymentCrash(): Promise<{ readonly crashed: Promise<number> }>;
  /** Webtoon at `replicas` instances behind the gateway, nothing else changed (services only). */
  scaleWebtoon(replicas: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Deployer {
  readonly mode: Stack['mode'];
  start(shape: ShapeName): Promise<Stack>;
}
