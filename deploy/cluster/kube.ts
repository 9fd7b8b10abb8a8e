/**
 * kubectl from the cluster suite: the context cluster:up made current, JSON
 * reads, port-forwards, and reading a pod's own /metrics from inside it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mustRun, run } from '../commands.js';

export const NAMESPACE = 'portal';

/** The source cluster's own kubectl where cluster:up built it, else the one on PATH. */
export function kubectlBinary(): string {
  const cache = process.env.SOURCE_CLUSTER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'portal-source-cluster');
  const built = join(cache, 'bin', 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}

export function kubectl(args: readonly string[], quiet = true): Promise<string> {
  return mustRun(kubectlBinary(), args, process.env, quiet);
}

export function kubectlRun(args: readonly string[]) {
  return run(kubectlBinary(), args, process.env, true);
}

export async function kubeJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export interface Workload {
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly spec: { readonly replicas?: number };
  readonly status: {
    readonly replicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
    readonly updatedReplicas?: number;
    readonly observedGeneration?: number;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
  };
}

export async function workloads(): Promise<Workload[]> {
  const list = await kubeJson<{ items: Workload[] }>(['-n', NAMESPACE, 'get', 'deployments,statefulsets']);
  return list.items;
}

export interface Pod {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string>; readonly deletionTimestamp?: string };
  readonly spec: { readonly containers: readonly { readonly image: string }[] };
  readonly status: {
    readonly phase: string;
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
    readonly containerStatuses?: readonly { readonly name: string; readonly restartCount: number }[];
  };
}

export async function pods(selector: string): Promise<Pod[]> {
  const list = await kubeJson<{ items: Pod[] }>(['-n', NAMESPACE, 'get', 'pods', '-l', selector]);
  return list.items;
}

export const isReady = (pod: Pod) => !pod.metadata.deletionTimestamp && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** GET a path on a pod's own port, from inside the pod (its image has node): no NetworkPolicy is crossed. */
export function fetchInPod(pod: string, port: number, path: string): Promise<string> {
  const script = `fetch('http://127.0.0.1:${port}${path}').then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(String(e)); process.exit(1); })`;
  return kubectl(['-n', NAMESPACE, 'exec', pod, '--', 'node', '-e', script]);
}

/** Sums a counter's samples whose labels include all of `labels`, from Prometheus text. */
export function counterTotal(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export interface PortForward {
  readonly port: number;
  close(): void;
}

/** kubectl port-forward to a Service on a free local port; resolves once it forwards. */
export function portForward(target: string, remotePort: number): Promise<PortForward> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(kubectlBinary(), ['-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', target, `:${remotePort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`port-forward to ${target} did not start: ${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ port: Number(port), close: () => child.kill() });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward to ${target} exited ${code}: ${output}`));
    });
  });
}
