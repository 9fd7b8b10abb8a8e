import { getContainerRuntimeClient } from 'testcontainers';

/**
 * Fails, with what to do about it, when no container engine answers. Never a
 * skip: a test that needs a real server and has none has not passed.
 */
export async function requireDocker(
  server: string,
  envVar: string,
  findEngine: () => Promise<unknown> = getContainerRuntimeClient,
): Promise<void> {
  try {
    await findEngine();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      [
        `This test needs ${server}: ${envVar} is not set and no Docker engine answered (${reason}).`,
        `Either install Docker Engine and start it (https://docs.docker.com/engine/install/),`,
        `or set ${envVar} to a server you run yourself.`,
      ].join('\n'),
      { cause: error },
    );
  }
}

/** Polls `probe` until it resolves, for at most `timeoutMs`; rethrows the last failure. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() + delay > deadline) {
        throw new Error(`${what}: not ready within ${timeoutMs} ms`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 1_000);
    }
  }
}
