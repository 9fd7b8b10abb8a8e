import { spawn } from 'node:child_process';
import { requireDocker } from './docker.js';
import { UPSTREAM_IMAGES } from './versions.js';

/** Upper bound on one check: a container start and a lint of a few hundred lines. */
const TIMEOUT_MS = 60_000;

/**
 * What `promtool check metrics` says about a /metrics text exposition: one
 * entry per problem, none when it passes. Runs promtool from PROMETHEUS_IMAGE
 * (default the upstream prom/prometheus image) with the text on stdin; needs
 * Docker and fails, never skips, without it.
 */
export async function promtoolCheckMetrics(text: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  await requireDocker('promtool (Docker, to run the Prometheus image)', 'PROMETHEUS_IMAGE');
  const image = env.PROMETHEUS_IMAGE?.trim() || UPSTREAM_IMAGES.prometheus;
  const child = spawn('docker', ['run', '--rm', '-i', '--entrypoint', 'promtool', image, 'check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(text);
  const code = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool check metrics (${image}): no answer within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    child.on('error', (error) => (clearTimeout(timer), reject(error)));
    child.on('close', (status) => (clearTimeout(timer), resolve(status ?? -1)));
  });
  const problems = output.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const ran = !/Unable to find image|docker: |Error response from daemon|executable file not found/.test(output);
  if (code === 0) return [];
  // promtool exits 3 for lint problems and 1 for text it cannot parse, naming each; anything else is no verdict.
  if (ran && (code === 1 || code === 3) && problems.length > 0) return problems;
  throw new Error(`promtool check metrics (${image}) could not run (exit ${code}):\n${output}`);
}
