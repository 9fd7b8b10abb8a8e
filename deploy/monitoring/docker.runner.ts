import { execFile } from 'node:child_process';
import { UPSTREAM_IMAGES } from '@portal/testing';

/** The Prometheus image promtool and the test server come from; CI points it at a local stand-in. */
export const PROMETHEUS_IMAGE = process.env.PROMETHEUS_IMAGE?.trim() || UPSTREAM_IMAGES.prometheus;
/** For the tiny metrics target of the real run: any Node 24 image. */
export const NODE_IMAGE = process.env.NODE_IMAGE?.trim() || UPSTREAM_IMAGES.node;

export interface RunResult {
  readonly code: number;
  /** stdout and stderr together, as promtool prints its findings on both. */
  readonly output: string;
}

/** Runs `docker <args>` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function docker(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error && typeof error.code !== 'number') {
        reject(new Error(`docker ${args.join(' ')} did not run: ${error.message}\n${output}`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output });
    });
  });
}

/** Like docker(), but a non-zero exit is an error carrying the output. */
export async function dockerOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${result.code}:\n${result.output}`);
  return result.output.trim();
}

/** A host directory and where the container sees it (read-only). */
export type Mount = readonly [host: string, container: string];

/** `promtool <args>` from PROMETHEUS_IMAGE, with `mounts` read-only and `workdir` as its working directory. */
export function promtool(args: readonly string[], mounts: readonly Mount[], workdir?: string): Promise<RunResult> {
  return docker([
    'run',
    '--rm',
    '--network',
    'none',
    ...mounts.flatMap(([host, container]) => ['-v', `${host}:${container}:ro`]),
    ...(workdir ? ['-w', workdir] : []),
    '--entrypoint',
    'promtool',
    PROMETHEUS_IMAGE,
    ...args,
  ]);
}
