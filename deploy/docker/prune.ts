/**
 * Cuts the built monorepo down to what one app needs at run time: its workspace
 * packages (followed through `dependencies` only, so @portal/testing and the
 * lint and test presets stay out) with their package.json and published files,
 * a root package.json listing just those workspaces, and package-lock.json
 * reduced to the packages they reach. `npm ci --omit=dev` on the result then
 * installs exactly the locked versions, and nothing else.
 *
 * The Dockerfile runs it with Node's type stripping (`node prune.ts APP SRC OUT`),
 * so it imports nothing but Node itself.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { argv, exit } from 'node:process';

/** Every deployable app (a folder under apps/) and the port it listens on by default. */
export const APPS = {
  gateway: 8080,
  news: 3001,
  blog: 3002,
  webtoon: 3003,
  payment: 3004,
  auth: 3005,
  analytics: 3006,
  monolith: 3000,
} as const;
export type AppName = keyof typeof APPS;

interface LockEntry {
  name?: string;
  version?: string;
  link?: boolean;
  resolved?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
  [key: string]: unknown;
}

interface Lockfile {
  name: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

interface Manifest {
  name: string;
  files?: string[];
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface PrunePlan {
  /** Workspace folders the app needs (the app first), e.g. apps/webtoon, packages/host. */
  readonly workspaces: string[];
  readonly packageJson: Record<string, unknown>;
  readonly lockfile: Lockfile;
}

/**
 * npm resolves every workspace's devDependencies even under --omit=dev, and the
 * pruned tree has no @portal/testing to resolve them to: they go, from the
 * manifest and its lockfile entry alike, and so do the scripts.
 */
function withoutDevDependencies<T extends object>(manifest: T): T {
  const copy = { ...manifest } as Record<string, unknown>;
  delete copy.devDependencies;
  delete copy.scripts;
  return copy as T;
}

export function isAppName(value: string): value is AppName {
  return Object.hasOwn(APPS, value);
}

/**
 * Where Node finds `name` when required from the package at `from` (a lockfile
 * key): the nearest node_modules/<name> walking up, as npm laid it out.
 */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    // Up one package: drop the last /node_modules/<name>; a top-level package or a workspace folder hangs off the root.
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut >= 0 ? dir.slice(0, cut) : '';
  }
}

/** Plans the pruned workspace of `app` from the root package.json, the lockfile and the workspaces' manifests. */
export function planPrune(
  app: AppName,
  rootPackage: Record<string, unknown>,
  lockfile: Lockfile,
  readManifest: (folder: string) => Manifest,
): PrunePlan {
  const packages = lockfile.packages;

  const start = `apps/${app}`;
  if (!packages[start]) throw new Error(`APP: ${app} has no workspace ${start} in package-lock.json`);
  const workspaces: string[] = [];
  const keep = new Set<string>(['']);
  const queue: string[] = [start];
  while (queue.length > 0) {
    const key = queue.shift() as string;
    if (keep.has(key)) continue;
    keep.add(key);
    const entry = packages[key] as LockEntry;
    if (entry.link) {
      queue.push(entry.resolved as string);
      continue;
    }
    // A workspace dependency is reached through its link, node_modules/@portal/<name> -> packages/<name>.
    const isWorkspace = !key.includes('node_modules/');
    if (isWorkspace) workspaces.push(key);
    // A workspace's runtime needs are its `dependencies`; its devDependencies build and test it.
    const deps = isWorkspace ? { ...readManifest(key).dependencies } : { ...entry.dependencies, ...entry.optionalDependencies };
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    for (const name of [...Object.keys(deps), ...peers]) {
      const found = resolveFrom(packages, key, name);
      if (found) queue.push(found);
      else if (!(name in (entry.optionalDependencies ?? {}))) {
        throw new Error(`package-lock.json: ${key || 'the root'} needs ${name}, which the lockfile does not have; run npm install`);
      }
    }
  }

  // Every workspace is linked from node_modules/<its name>, the app's own included.
  for (const [key, entry] of Object.entries(packages)) if (entry.link && workspaces.includes(entry.resolved ?? '')) keep.add(key);

  const packageJson: Record<string, unknown> = {
    name: rootPackage.name,
    private: true,
    type: rootPackage.type,
    // `node /app` starts the app: Node runs the folder's package.json "main".
    main: `${start}/dist/main.js`,
    workspaces,
    ...(rootPackage.engines ? { engines: rootPackage.engines } : {}),
  };
  const prunedPackages: Record<string, LockEntry> = {};
  for (const [key, entry] of Object.entries(packages)) {
    if (key === '') prunedPackages[key] = { name: entry.name, workspaces, ...(entry.engines ? { engines: entry.engines } : {}) };
    else if (workspaces.includes(key)) prunedPackages[key] = withoutDevDependencies(entry);
    else if (keep.has(key)) prunedPackages[key] = entry;
  }
  return { workspaces, packageJson, lockfile: { ...lockfile, packages: prunedPackages } };
}

/** Writes the pruned workspace of `app` from the built repository at `src` into `out`. */
export function prune(app: AppName, src: string, out: string): PrunePlan {
  const readJson = <T>(file: string) => JSON.parse(readFileSync(join(src, file), 'utf8')) as T;
  const plan = planPrune(app, readJson('package.json'), readJson<Lockfile>('package-lock.json'), (folder) =>
    readJson<Manifest>(posix.join(folder, 'package.json')),
  );
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(plan.packageJson, null, 2)}\n`);
  writeFileSync(join(out, 'package-lock.json'), `${JSON.stringify(plan.lockfile, null, 2)}\n`);
  if (existsSync(join(src, '.npmrc'))) cpSync(join(src, '.npmrc'), join(out, '.npmrc'));
  for (const folder of plan.workspaces) {
    const manifest = readJson<Manifest>(posix.join(folder, 'package.json'));
    // What the package publishes ("files"), else its build output: never its sources or tests.
    const files = manifest.files ?? ['dist'];
    mkdirSync(join(out, folder), { recursive: true });
    writeFileSync(join(out, folder, 'package.json'), `${JSON.stringify(withoutDevDependencies(manifest), null, 2)}\n`);
    for (const file of files) {
      const from = join(src, folder, file);
      if (!existsSync(from)) throw new Error(`${folder}: '${file}' is missing; was the workspace built?`);
      mkdirSync(dirname(join(out, folder, file)), { recursive: true });
      cpSync(from, join(out, folder, file), { recursive: true });
    }
  }
  return plan;
}

if (import.meta.main) {
  const [app = '', src = '.', out = ''] = argv.slice(2);
  if (!isAppName(app) || out === '') {
    console.error(`usage: node prune.ts APP SRC OUT; APP is one of ${Object.keys(APPS).join(', ')} (got '${app}')`);
    exit(64);
  }
  const plan = prune(app, src, out);
  console.log(`pruned ${app}: ${plan.workspaces.length} workspaces (${plan.workspaces.join(', ')}), ${Object.keys(plan.lockfile.packages).length - 1} lockfile entries`);
}
