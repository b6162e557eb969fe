// Which home directory a command works on: --home, else $TRELLIS_HOME, else ~/.trellis.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';

export function resolveHome(option: string | undefined): string {
  if (option !== undefined && option !== '') return resolve(option);
  const env = process.env.TRELLIS_HOME;
  if (env !== undefined && env !== '') return resolve(env);
  return join(homedir(), '.trellis');
}

/** The home of a parsed command: `--home` may come before or after the subcommand. */
export function homeOf(cmd: Command): string {
  return resolveHome(cmd.optsWithGlobals<{ home?: string }>().home);
}
