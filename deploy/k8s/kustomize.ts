import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as kustomize prints it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

const INSTALL_HINT =
  'install kustomize (GOBIN=/usr/local/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0) ' +
  'or kubectl, whose `kubectl kustomize` is built in (https://kubernetes.io/docs/tasks/tools/)';

function onPath(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The command that builds a kustomization here: `kustomize build`, else
 * `kubectl kustomize`. Neither is an error that says what to install, never a
 * skip: manifests nobody built have not passed.
 */
export function findKustomize(): readonly string[] {
  if (onPath('kustomize', ['version'])) return ['kustomize', 'build'];
  if (onPath('kubectl', ['version', '--client'])) return ['kubectl', 'kustomize'];
  throw new Error(`Building the Kubernetes manifests needs kustomize, and neither kustomize nor kubectl is on PATH: ${INSTALL_HINT}.`);
}

/** Builds the kustomization in `dir` and returns its objects, in kustomize's order. */
export function buildKustomization(dir: string, command: readonly string[] = findKustomize()): KubeObject[] {
  const [bin = '', ...args] = command;
  let output: string;
  try {
    output = execFileSync(bin, [...args, dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString() ?? '';
    throw new Error(`${command.join(' ')} ${dir} failed:\n${stderr || String(error)}`, { cause: error });
  }
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(output)) {
    if (document.errors.length > 0) throw new Error(`${dir}: kustomize printed invalid YAML: ${document.errors[0]?.message}`);
    const value = document.toJS() as KubeObject | null;
    if (value) objects.push(value);
  }
  return objects;
}
