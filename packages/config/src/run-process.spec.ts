import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./run-process.fixture.ts', import.meta.url));
const BOUND_MS = 500;

interface Stopped {
  readonly code: number | null;
  /** From sending SIGTERM to the exit. */
  readonly ms: number;
  readonly output: string;
}

/**
 * Runs the fixture (Node strips its types; the condition makes `@portal/config`
 * this package's source), sends SIGTERM once it is ready, and waits for it to
 * exit, at most `limitMs` after the signal.
 */
function terminate(close: 'ok' | 'hang' | 'stall' | 'fail', limitMs = 20_000): Promise<Stopped> {
  const child = spawn(process.execPath, ['--conditions=@portal/source', FIXTURE], {
    env: { ...process.env, FIXTURE_CLOSE: close, SHUTDOWN_BOUND_MS: String(BOUND_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let signalled = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the fixture (${close}) did not exit within ${limitMs} ms of starting or of SIGTERM\n${output}`));
    }, limitMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (signalled === 0 && output.includes('fixture ready')) {
        signalled = performance.now();
        timer.refresh();
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (signalled === 0) reject(new Error(`the fixture (${close}) exited with ${code} before it was ready\n${output}`));
      else resolve({ code, ms: performance.now() - signalled, output });
    });
  });
}

describe('runProcess on SIGTERM', () => {
  it('exits 0 once close() has finished', async () => {
    const stopped = await terminate('ok');
    expect(stopped.code, stopped.output).toBe(0);
    expect(stopped.output).toContain('shutting down');
    expect(stopped.ms).toBeLessThan(BOUND_MS + 5_000);
  });

  it('exits 1 after the bound when close() hangs with the server still open', async () => {
    const stopped = await terminate('hang');
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toContain('shutdown took too long; exiting');
    expect(stopped.ms).toBeGreaterThanOrEqual(BOUND_MS);
    // The bound, plus a generous allowance for a busy two-core machine.
    expect(stopped.ms).toBeLessThan(BOUND_MS + 5_000);
  });

  it('exits 1 after the bound when close() never settles, even with nothing left that keeps Node running', async () => {
    const stopped = await terminate('stall');
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toContain('shutdown took too long; exiting');
    expect(stopped.ms).toBeGreaterThanOrEqual(BOUND_MS);
  });

  it('exits 1 at once when close() fails', async () => {
    const stopped = await terminate('fail');
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toContain('shutdown failed');
    expect(stopped.ms).toBeLessThan(BOUND_MS + 5_000);
  });
});
