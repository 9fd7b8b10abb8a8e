import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { affectedServices, outdatedServices } from './affected.js';
import { git } from './git.js';
import { imageTag } from './image-tag.js';
import { runSmoke } from './smoke.js';

export const USAGE = `usage:
  cli.js affected [--base <rev> | --running <file>] [--head <rev>] [--json]
      the deployable apps a change affects, one a line; no --base (or an empty
      or all-zero one, as on a first build): all of them. --running: a file of
      lines "<app> <image>" (what a cluster runs); each app is compared with the
      commit its image tag names, and one that does not run is affected
  cli.js image-tag [--rev <rev>]
      the image tag of a commit: 12 characters of its sha, -dirty for local changes
  cli.js smoke --url <gateway base url> [--wait <seconds>] [--unlock-wait <seconds>]
      the smoke test through the gateway, a line per step; exits 1 naming the
      step that failed. --wait: how long the stack may take to become ready
      (default 60); --unlock-wait: how long a payment may take to unlock the
      paid episode (default 30)`;

/** A command line that does not parse: the caller prints USAGE. */
export class UsageError extends Error {}

/** Runs one command from `cwd` (anywhere inside the repository) and returns what it prints. */
export function runCommand(argv: readonly string[], cwd: string): string {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'affected': {
        const { values } = parseArgs({
          args,
          options: { base: { type: 'string' }, running: { type: 'string' }, head: { type: 'string' }, json: { type: 'boolean' } },
        });
        if (values.base !== undefined && values.running !== undefined) throw new UsageError('--base and --running: one or the other');
        const apps =
          values.running === undefined
            ? affectedServices({ repoRoot: repoRoot(cwd), base: values.base, head: values.head })
            : outdatedServices({ repoRoot: repoRoot(cwd), running: runningImages(values.running), head: values.head });
        return values.json === true ? `${JSON.stringify(apps)}\n` : apps.map((app) => `${app}\n`).join('');
      }
      case 'image-tag': {
        const { values } = parseArgs({ args, options: { rev: { type: 'string' } } });
        return `${imageTag({ repoRoot: repoRoot(cwd), rev: values.rev })}\n`;
      }
      case 'smoke':
        throw new UsageError("'smoke' runs asynchronously: call runSmokeCommand");
      default:
        throw new UsageError(command === undefined ? 'no command' : `unknown command '${command}'`);
    }
  } catch (error) {
    // parseArgs says what is wrong with the arguments; anything else is not ours to rename.
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

/**
 * `smoke`: runs the smoke test, printing through `log`, and resolves with the
 * exit code (0 passed, 1 a step failed). Bad arguments throw a UsageError
 * that names the option.
 */
export async function runSmokeCommand(args: readonly string[], log: (line: string) => void): Promise<number> {
  let values: { url?: string | undefined; wait?: string | undefined; 'unlock-wait'?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { url: { type: 'string' }, wait: { type: 'string' }, 'unlock-wait': { type: 'string' } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const url = gatewayUrl(values.url);
  const result = await runSmoke({
    url,
    waitSeconds: seconds('--wait', values.wait, 60),
    unlockSeconds: seconds('--unlock-wait', values['unlock-wait'], 30),
    log,
  });
  return result.ok ? 0 : 1;
}

function gatewayUrl(value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError('--url: required, the gateway base URL (e.g. http://localhost:8080)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url: not a URL (got '${value}')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url: must be http or https (got '${value}')`);
  return url.href;
}

function seconds(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) {
    throw new UsageError(`${option}: must be a number of seconds from 0 to 3600 (got '${value}')`);
  }
  return n;
}

/** `<app> <image>` lines (tab or spaces), blank lines ignored. */
function runningImages(file: string): Map<string, string> {
  const running = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [app, image, ...rest] = line.trim().split(/\s+/);
    if (app === undefined || app === '') continue;
    if (image === undefined || rest.length > 0) throw new UsageError(`--running ${file}: expected "<app> <image>", got '${line}'`);
    running.set(app, image);
  }
  return running;
}

function repoRoot(cwd: string): string {
  return git(cwd, ['rev-parse', '--show-toplevel']).trim();
}
