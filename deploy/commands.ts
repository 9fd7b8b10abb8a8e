/**
 * Running the project's own commands from a test as a user would (npm run
 * up, cluster:up, ...), with their output shown line by line so that long
 * steps show progress.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs a command in the repository's root; resolves with its exit code and output. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, quiet = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (!quiet) process.stdout.write(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Like run, but a non-zero exit is an error carrying the end of the output. */
export async function mustRun(command: string, args: readonly string[], env?: NodeJS.ProcessEnv, quiet = false): Promise<string> {
  const result = await run(command, args, env, quiet);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.output.split('\n').slice(-40).join('\n')}`);
  }
  return result.output;
}

/** Polls `probe` until it returns a value, for at most `timeoutMs`; then fails with the last reason. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T>, intervalMs = 1_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000}s: ${last instanceof Error ? last.message : String(last)}`);
}
