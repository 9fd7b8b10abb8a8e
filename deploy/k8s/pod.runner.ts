/**
 * Runs one pod of a built workload in Docker the way a kubelet would, as far
 * as the specs here need: its init containers in order, each to a successful
 * exit, then its containers; each with the environment pod `<name>-<index>`
 * gets, its user, a read-only root filesystem when asked, all capabilities
 * dropped, no privilege escalation; emptyDir and volume-claim volumes as empty
 * host folders shared by the pod's containers, ConfigMap volumes as their
 * files with their mode. Docker must share this machine's filesystem (a local
 * engine). Images may be mapped to local stand-ins.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, Wait } from 'testcontainers';
import type { StartedNetwork, StartedTestContainer, WaitStrategy } from 'testcontainers';
import type { KubeObject } from './kustomize.js';
import { containerEnv, find, spec } from './manifests.js';
import type { Container, Workload } from './manifests.js';

/** GenericContainer with the one setting it has no method for. */
class PodContainer extends GenericContainer {
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }
}

/** The environment of pod `podName`: field refs filled in, then $(VAR) references expanded, as the kubelet does. */
export function podEnv(template: Readonly<Record<string, string>>, podName: string, index: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(template)) {
    const filled =
      value === '<fieldRef:metadata.name>'
        ? podName
        : value === "<fieldRef:metadata.labels['apps.kubernetes.io/pod-index']>"
          ? String(index)
          : value;
    if (filled.startsWith('<fieldRef:')) throw new Error(`${key}: the pod runner has no value for ${value}`);
    env[key] = filled;
  }
  for (const key of Object.keys(env)) env[key] = (env[key] as string).replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? `$(${name})`);
  return env;
}

export interface RunPodOptions {
  readonly objects: readonly KubeObject[];
  readonly workload: Workload;
  readonly index: number;
  /** The image to run for a manifest's image, e.g. a stand-in from KAFKA_IMAGE. */
  readonly image: (manifestImage: string) => string;
  readonly network?: StartedNetwork;
  readonly aliases?: readonly string[];
  readonly exposedPorts?: readonly number[];
  /** When the pod's (first) container counts as started. */
  readonly waitStrategy: WaitStrategy;
  readonly startupTimeoutMs: number;
}

export interface RunningPod {
  /** The pod's containers (not its finished init containers), in order. */
  readonly containers: readonly StartedTestContainer[];
  stop(): Promise<void>;
}

export async function runPod(options: RunPodOptions): Promise<RunningPod> {
  const { workload, objects, index } = options;
  const podName = `${workload.name}-${index}`;
  const dirs: string[] = [];
  const started: StartedTestContainer[] = [];
  const stop = async () => {
    await Promise.all(started.map((c) => c.stop({ timeout: 5 }).catch(() => undefined)));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), `pod-${podName}-`));
    // Any pod user may write, as with an emptyDir or a volume under fsGroup.
    chmodSync(dir, 0o777);
    dirs.push(dir);
    return dir;
  };

  const volumes = new Map<string, { dir: string; readOnly: boolean }>();
  for (const volume of workload.spec.volumes ?? []) {
    if (volume.emptyDir) volumes.set(volume.name, { dir: folder(), readOnly: false });
    else if (volume.configMap) {
      const dir = folder();
      const data = (find(objects, 'ConfigMap', volume.configMap.name) as unknown as { data?: Record<string, string> }).data ?? {};
      for (const [file, content] of Object.entries(data)) {
        writeFileSync(join(dir, file), content);
        chmodSync(join(dir, file), volume.configMap.defaultMode ?? 0o644);
      }
      volumes.set(volume.name, { dir, readOnly: true });
    } else throw new Error(`${workload.name}: volume ${volume.name} is of a kind the pod runner does not emulate`);
  }
  for (const claim of spec<{ volumeClaimTemplates?: { metadata: { name: string } }[] }>(workload.object).volumeClaimTemplates ?? []) {
    volumes.set(claim.metadata.name, { dir: folder(), readOnly: false });
  }

  const container = (c: Container, waitStrategy: WaitStrategy) => {
    const pod = workload.spec.securityContext ?? {};
    const own = c.securityContext ?? {};
    const user = own.runAsUser ?? pod.runAsUser;
    const group = own.runAsGroup ?? pod.runAsGroup ?? user;
    let generic = new PodContainer(options.image(c.image))
      .withEnvironment(podEnv(containerEnv(objects, c), podName, index))
      .withBindMounts(
        (c.volumeMounts ?? []).map((m) => {
          const volume = volumes.get(m.name);
          if (!volume) throw new Error(`${workload.name}/${c.name}: no volume ${m.name}`);
          return { source: volume.dir, target: m.mountPath, mode: volume.readOnly || m.readOnly ? 'ro' : 'rw' } as const;
        }),
      )
      .withWaitStrategy(waitStrategy)
      .withStartupTimeout(options.startupTimeoutMs);
    if (user !== undefined) generic = generic.withUser(`${user}:${group}`);
    if (own.readOnlyRootFilesystem) generic = generic.withReadOnlyRootFilesystem();
    if (own.capabilities?.drop?.includes('ALL')) generic = generic.withDroppedCapabilities('ALL');
    if (own.allowPrivilegeEscalation === false) generic = generic.withSecurityOpt('no-new-privileges:true');
    if (c.command) generic = generic.withEntrypoint(c.command).withCommand(c.args ?? []);
    else if (c.args) generic = generic.withCommand(c.args);
    if (options.network) generic = generic.withNetwork(options.network).withNetworkAliases(...(options.aliases ?? []));
    return generic;
  };

  try {
    for (const init of workload.spec.initContainers ?? []) {
      // Runs to completion; a non-zero exit fails the start.
      started.push(await container(init, Wait.forOneShotStartup()).start());
    }
    const running: StartedTestContainer[] = [];
    for (const [i, c] of workload.spec.containers.entries()) {
      let generic = container(c, i === 0 ? options.waitStrategy : Wait.forListeningPorts());
      if (i === 0 && options.exposedPorts?.length) generic = generic.withExposedPorts(...options.exposedPorts);
      const one = await generic.start();
      started.push(one);
      running.push(one);
    }
    return { containers: running, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
