/**
 * Reading built manifests the way the kubelet would: workloads and their pod
 * templates, and a container's environment with its ConfigMap and Secret
 * references resolved. Shared by the specs beside it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kustomize.js';

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      fieldRef?: { fieldPath: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  command?: string[];
  args?: string[];
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; emptyDir?: object; hostPath?: object; configMap?: { name: string; defaultMode?: number } }[];
}
export interface Workload {
  kind: string;
  name: string;
  replicas: number | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  object: KubeObject;
}


export const spec = <T>(object: KubeObject) => (object as unknown as { spec: T }).spec;
export const ofKind = (objects: readonly KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
export const find = (objects: readonly KubeObject[], kind: string, name: string) => {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`no ${kind} ${name}`);
  return object;
};

export function workloads(objects: readonly KubeObject[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind))
    .map((o) => {
      const s = spec<{ replicas?: number; template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } }>(o);
      return {
        kind: o.kind,
        name: o.metadata.name,
        replicas: s.replicas,
        labels: s.template.metadata?.labels ?? {},
        annotations: s.template.metadata?.annotations ?? {},
        spec: s.template.spec,
        object: o,
      };
    });
}

/** The app a `portal/<app>[:tag]` image is built from, or undefined for other images. */
export const appOfImage = (image: string) => /^portal\/([a-z0-9-]+)(?::[\w.-]+)?$/.exec(image)?.[1];
export const portalContainer = (w: Workload) => w.spec.containers.find((c) => appOfImage(c.image));

export function secretValue(objects: readonly KubeObject[], name: string, key: string): string {
  const secret = find(objects, 'Secret', name) as unknown as { stringData?: Record<string, string>; data?: Record<string, string> };
  const value = secret.stringData?.[key] ?? (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key] as string, 'base64').toString('utf8'));
  if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return value;
}

export function configMapData(objects: readonly KubeObject[], name: string): Record<string, string> {
  return (find(objects, 'ConfigMap', name) as unknown as { data?: Record<string, string> }).data ?? {};
}

/** A container's environment as the kubelet would build it (field refs shown as `<fieldRef:path>`). */
export function containerEnv(objects: readonly KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef
      ? configMapData(objects, from.configMapRef.name)
      : from.secretRef
        ? Object.fromEntries(
            Object.keys({ ...(find(objects, 'Secret', from.secretRef.name) as unknown as { stringData?: object }).stringData }).map((k) => [
              k,
              secretValue(objects, from.secretRef?.name as string, k),
            ]),
          )
        : {};
    for (const [key, value] of Object.entries(data)) env[(from.prefix ?? '') + key] = value;
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    env[variable.name] =
      variable.value ??
      (ref?.secretKeyRef
        ? secretValue(objects, ref.secretKeyRef.name, ref.secretKeyRef.key)
        : ref?.configMapKeyRef
          ? (configMapData(objects, ref.configMapKeyRef.name)[ref.configMapKeyRef.key] ??
            (() => {
              throw new Error(`ConfigMap ${ref.configMapKeyRef?.name} has no key ${ref.configMapKeyRef?.key}`);
            })())
          : `<fieldRef:${ref?.fieldRef?.fieldPath ?? '?'}>`);
  }
  return env;
}

/** Kubernetes quantities: cpu in cores, memory in bytes. */
export function quantity(text: string): number {
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!match) throw new Error(`not a quantity: ${text}`);
  const factor: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(match[1]) * (match[2] ? (factor[match[2]] as number) : 1);
}

/**
 * The Secrets the workloads name, as cluster:up creates them beside the
 * overlay: freshly generated by deploy/scripts/portal-secrets.sh (no password
 * is in git), new random values on every call.
 */
export function generatedSecrets(): KubeObject[] {
  const script = fileURLToPath(new URL('../scripts/portal-secrets.sh', import.meta.url));
  const output = execFileSync('bash', [script], { encoding: 'utf8', timeout: 30_000 });
  return parseAllDocuments(output)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

