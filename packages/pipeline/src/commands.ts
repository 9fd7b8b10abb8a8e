import { parseArgs } from 'node:util';
import { affectedServices } from './affected.js';
import { git } from './git.js';
import { imageTag } from './image-tag.js';

export const USAGE = `usage:
  cli.js affected [--base <rev>] [--head <rev>] [--json]
      the deployable apps a change affects, one a line; no --base (or an empty
      or all-zero one, as on a first build): all of them
  cli.js image-tag [--rev <rev>]
      the image tag of a commit: 12 characters of its sha, -dirty for local changes`;

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
          options: { base: { type: 'string' }, head: { type: 'string' }, json: { type: 'boolean' } },
        });
        const apps = affectedServices({ repoRoot: repoRoot(cwd), base: values.base, head: values.head });
        return values.json === true ? `${JSON.stringify(apps)}\n` : apps.map((app) => `${app}\n`).join('');
      }
      case 'image-tag': {
        const { values } = parseArgs({ args, options: { rev: { type: 'string' } } });
        return `${imageTag({ repoRoot: repoRoot(cwd), rev: values.rev })}\n`;
      }
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

function repoRoot(cwd: string): string {
  return git(cwd, ['rev-parse', '--show-toplevel']).trim();
}
