import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ServiceProcess {
  /** The base URL from the ready line, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string;
  /** Sends `signal` and resolves with the exit code once it has exited (rejects past `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface StartProcessOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** How long until the ready line must appear. */
  readonly timeoutMs?: number;
}

/**
 * Starts a service the way a user does (`node dist/main.js`) and waits for its
 * ready line, `<name> ready on <url>`. Fails with the process's output when it
 * exits or stays silent past the bound.
 */
export function startProcess(entry: string, options: StartProcessOptions = {}): Promise<ServiceProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [entry], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop: ServiceProcess['stop'] = async (signal = 'SIGTERM', stopTimeoutMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${entry} did not exit within ${stopTimeoutMs} ms of ${signal}\n${output}`));
      }, stopTimeoutMs);
    });
    try {
      return await Promise.race([exited, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry}: no ready line within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = / ready on (http:\/\/\S+)/.exec(output);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolve({ url: ready[1], child, output: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before it was ready\n${output}`));
    });
  });
}
